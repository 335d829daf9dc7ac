import { AppShell, Burger, Button, Center, Group, Loader, NavLink, ScrollArea, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconAddressBook, IconCopy, IconFileImport, IconHome, IconKey, IconListDetails, IconLogout, IconWebhook } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useMemo, type ComponentType } from 'react';
import { NavLink as RouterLink, Route, Routes, useLocation } from 'react-router';
import { useApi, usePrincipal, useT } from '@rapport/console-sdk';
import { ErrorBoundary } from './ErrorBoundary.js';
import { LanguageSwitch } from './LanguageSwitch.js';
import { pagesFor } from './registry.js';
import { Dashboard } from './pages/Dashboard.js';
import { NotFound } from './pages/NotFound.js';

const PartiesPage = lazy(() => import('./pages/Parties.js'));
const PartyPage = lazy(() => import('./pages/Party.js'));
const DuplicatesPage = lazy(() => import('./pages/Duplicates.js'));
const ImportPage = lazy(() => import('./pages/Import.js'));
const WebhooksPage = lazy(() => import('./pages/Webhooks.js'));
const KeysPage = lazy(() => import('./pages/Keys.js'));
const AuditPage = lazy(() => import('./pages/Audit.js'));

interface NavItem {
  path: string;
  label: string;
  icon?: ComponentType<{ size?: number }>;
  group: 'main' | 'settings';
}

/** The kernel's own pages, each shown only to a principal holding the permission its API asks. */
const KERNEL_PAGES = [
  { path: 'parties', title: 'nav.parties', permission: 'parties:read', icon: IconAddressBook, group: 'main', element: <PartiesPage /> },
  { path: 'duplicates', title: 'nav.duplicates', permission: 'parties:write', icon: IconCopy, group: 'main', element: <DuplicatesPage /> },
  { path: 'import', title: 'nav.import', permission: 'imports:write', icon: IconFileImport, group: 'main', element: <ImportPage /> },
  { path: 'webhooks', title: 'nav.webhooks', permission: 'webhooks:read', icon: IconWebhook, group: 'settings', element: <WebhooksPage /> },
  { path: 'keys', title: 'nav.keys', permission: 'access:manage', icon: IconKey, group: 'settings', element: <KeysPage /> },
  { path: 'audit', title: 'nav.audit', permission: 'audit:read', icon: IconListDetails, group: 'settings', element: <AuditPage /> },
] as const;

function Page({ children }: { children: React.ReactNode }) {
  return (
    <ErrorBoundary>
      <Suspense
        fallback={
          <Center p="xl">
            <Loader aria-label="…" />
          </Center>
        }
      >
        {children}
      </Suspense>
    </ErrorBoundary>
  );
}

export default function Shell() {
  const t = useT();
  const principal = usePrincipal();
  const { client } = useApi();
  const queryClient = useQueryClient();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const kernel = KERNEL_PAGES.filter((page) => principal.can(page.permission));
  const plugin = useMemo(() => pagesFor(principal), [principal]);

  const nav: Array<NavItem & { ns: string }> = [
    ...kernel.map((p): NavItem & { ns: string } => ({ path: p.path, label: p.title, icon: p.icon, group: p.group, ns: 'console' })),
    ...plugin.filter((p) => p.nav !== false).map((p): NavItem & { ns: string } => ({ path: p.path, label: p.title, icon: p.icon, group: p.nav === 'settings' ? 'settings' : 'main', ns: p.plugin })),
  ];

  const signOut = async () => {
    await client.DELETE('/api/v1/auth/session');
    queryClient.clear();
    queryClient.setQueryData(['session'], null);
  };

  const link = (item: NavItem & { ns: string }) => (
    <NavLink
      key={`${item.ns}:${item.path}`}
      component={RouterLink}
      to={`/${item.path}`}
      label={<NavLabel ns={item.ns} k={item.label} />}
      leftSection={item.icon ? <item.icon size={18} /> : undefined}
      active={location.pathname === `/${item.path}` || location.pathname.startsWith(`/${item.path}/`)}
      variant="filled"
      onClick={close}
    />
  );

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 250, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('nav.toggle')} />
            <Text fw={700} component={RouterLink} to="/" c="inherit" td="none" translate="no">
              Rapport
            </Text>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <LanguageSwitch />
            <Button variant="subtle" size="xs" leftSection={<IconLogout size={16} />} onClick={signOut}>
              <Text span visibleFrom="xs" inherit>
                {t('signOut')}
              </Text>
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t('nav.label')}>
        <ScrollArea>
          <Stack gap={2}>
            <NavLink component={RouterLink} to="/" label={t('nav.home')} leftSection={<IconHome size={18} />} active={location.pathname === '/'} variant="filled" onClick={close} />
            {nav.filter((n) => n.group === 'main').map(link)}
            {nav.some((n) => n.group === 'settings') && (
              <Title order={2} size="xs" c="dimmed" tt="uppercase" px="sm" pt="md" pb={4}>
                {t('nav.settings')}
              </Title>
            )}
            {nav.filter((n) => n.group === 'settings').map(link)}
            <Text size="xs" c="dimmed" px="sm" pt="md" style={{ overflowWrap: 'anywhere' }} translate="no">
              {principal.user?.name ?? principal.user?.email}
            </Text>
          </Stack>
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <Routes>
          <Route
            index
            element={
              <Page>
                <Dashboard />
              </Page>
            }
          />
          {kernel.map((p) => (
            <Route key={p.path} path={p.path} element={<Page>{p.element}</Page>} />
          ))}
          {principal.can('parties:read') && (
            <Route
              path="parties/:id"
              element={
                <Page>
                  <PartyPage />
                </Page>
              }
            />
          )}
          {plugin.map((p) => (
            <Route key={`${p.plugin}:${p.path}`} path={p.path} element={<Page>{<LazyPage load={p.component} />}</Page>} />
          ))}
          <Route path="*" element={<NotFound />} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}

function NavLabel({ ns, k }: { ns: string; k: string }) {
  return <>{useT(ns)(k)}</>;
}

const loaded = new WeakMap<object, ComponentType<object>>();

/** A plugin page's component, made lazy once per loader (a new lazy() each render would remount it). */
function LazyPage({ load }: { load: () => Promise<{ default: ComponentType<object> }> }) {
  let Component = loaded.get(load);
  if (!Component) {
    Component = lazy(load);
    loaded.set(load, Component);
  }
  return <Component />;
}
