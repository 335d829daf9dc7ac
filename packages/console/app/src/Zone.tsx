import { Card, Loader, SimpleGrid, Title } from '@mantine/core';
import { lazy, Suspense, type ComponentType } from 'react';
import { usePrincipal, useT, type ConsoleZone, type ZoneProps } from '@rapport/console-sdk';
import { ErrorBoundary } from './ErrorBoundary.js';
import { widgetsFor, type RegisteredWidget } from './registry.js';

const components = new WeakMap<object, ComponentType<never>>();

function WidgetCard<Z extends ConsoleZone>({ widget, props }: { widget: RegisteredWidget; props: ZoneProps[Z] }) {
  const t = useT(widget.plugin);
  let Component = components.get(widget.component) as ComponentType<ZoneProps[Z]> | undefined;
  if (!Component) {
    Component = lazy(widget.component as () => Promise<{ default: ComponentType<ZoneProps[Z]> }>);
    components.set(widget.component, Component as ComponentType<never>);
  }
  return (
    <Card withBorder component="section" aria-label={t(widget.title)} data-widget={`${widget.plugin}:${widget.id}`}>
      <Title order={3} size="h5" mb="xs">
        {t(widget.title)}
      </Title>
      <ErrorBoundary>
        <Suspense fallback={<Loader size="sm" aria-label="…" />}>
          <Component {...props} />
        </Suspense>
      </ErrorBoundary>
    </Card>
  );
}

/** The widgets the composed plugins contribute to a zone, in their order, each in its own card. */
export function Zone<Z extends ConsoleZone>({ zone, props }: { zone: Z; props: ZoneProps[Z] }) {
  const principal = usePrincipal();
  const widgets = widgetsFor(zone, principal);
  if (widgets.length === 0) return null;
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} data-zone={zone}>
      {widgets.map((widget) => (
        <WidgetCard key={`${widget.plugin}:${widget.id}`} widget={widget} props={props} />
      ))}
    </SimpleGrid>
  );
}
