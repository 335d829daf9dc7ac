import type { ConsolePage, ConsolePlugin, ConsoleWidget, ConsoleZone, Principal } from '@rapport/console-sdk';
import plugins from 'virtual:rapport-console-plugins';

export { plugins };

export interface RegisteredPage extends ConsolePage {
  plugin: string;
}

/** Every page of the composed plugins the principal may open (the API checks again on each call). */
export function pagesFor(principal: Principal, all: readonly ConsolePlugin[] = plugins): RegisteredPage[] {
  return all.flatMap((plugin) =>
    [...(plugin.pages ?? []), ...(plugin.settings ?? []).map((page) => ({ ...page, nav: page.nav ?? ('settings' as const) }))]
      .filter((page) => !page.permission || principal.can(page.permission))
      .map((page) => ({ ...page, plugin: plugin.id })),
  );
}

export interface RegisteredWidget extends ConsoleWidget {
  plugin: string;
}

export function widgetsFor(zone: ConsoleZone, principal: Principal, all: readonly ConsolePlugin[] = plugins): RegisteredWidget[] {
  return all
    .flatMap((plugin) => (plugin.widgets ?? []).map((widget) => ({ ...widget, plugin: plugin.id })))
    .filter((widget) => widget.zone === zone && (!widget.permission || principal.can(widget.permission)))
    .sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}

/** The renderer a plugin gave for an interaction type, if any. */
export function timelineRenderer(type: string, all: readonly ConsolePlugin[] = plugins) {
  for (const plugin of all) {
    const renderer = plugin.timeline?.[type];
    if (renderer) return { plugin: plugin.id, renderer };
  }
  return undefined;
}
