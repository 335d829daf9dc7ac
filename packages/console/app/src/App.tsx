import { Center, Loader, MantineProvider, createTheme } from '@mantine/core';
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useMemo, useState } from 'react';
import { I18nextProvider, useTranslation } from 'react-i18next';
import { BrowserRouter } from 'react-router';
import { ConsoleProvider, makeFormatters, makePrincipal, type ConsoleApi } from '@rapport/console-sdk';
import { createConsoleApi } from './api.js';
import { createI18n } from './i18n.js';
import { plugins } from './registry.js';
import { SignIn } from './SignIn.js';
import { fetchMe, type Me } from './session.js';

// The signed-in part loads after sign-in: the sign-in page's JavaScript stays small.
const Shell = lazy(() => import('./Shell.js'));

const theme = createTheme({
  primaryColor: 'indigo',
  // Contrast of the default shade on white passes WCAG AA (axe checks it).
  primaryShade: 8,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
});

// Mantine's dimmed text, light variants and field errors are below WCAG AA on white; darker shades pass.
const contrast = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)', '--mantine-primary-color-light-color': 'var(--mantine-color-indigo-9)', '--mantine-color-error': 'var(--mantine-color-red-9)' },
  dark: {},
});

export function App() {
  const [api] = useState<ConsoleApi>(() => createConsoleApi());
  const [i18n] = useState(() => createI18n(plugins));
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: (count, error) => count < 2 && !(error as { status?: number }).status, staleTime: 30_000 } } }));
  return (
    <MantineProvider theme={theme} cssVariablesResolver={contrast}>
      <I18nextProvider i18n={i18n}>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter basename="/console">
            <SessionGate api={api} />
          </BrowserRouter>
        </QueryClientProvider>
      </I18nextProvider>
    </MantineProvider>
  );
}

function SessionGate({ api }: { api: ConsoleApi }) {
  const me = useQuery<Me | null>({ queryKey: ['session'], queryFn: () => fetchMe(api), staleTime: Infinity });
  // useTranslation re-renders on a language change, so the formats follow it.
  const language = useTranslation().i18n.language;
  const format = useMemo(() => makeFormatters(language), [language]);
  const principal = useMemo(() => (me.data ? makePrincipal(me.data) : null), [me.data]);
  if (me.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="…" />
      </Center>
    );
  }
  if (!principal) return <SignIn api={api} />;
  return (
    <ConsoleProvider value={{ api, principal, format }}>
      <Suspense
        fallback={
          <Center h="100vh">
            <Loader aria-label="…" />
          </Center>
        }
      >
        <Shell />
      </Suspense>
    </ConsoleProvider>
  );
}
