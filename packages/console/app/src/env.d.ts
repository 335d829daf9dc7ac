declare module 'virtual:rapport-console-plugins' {
  import type { ConsolePlugin } from '@rapport/console-sdk';
  const plugins: ConsolePlugin[];
  export default plugins;
}
