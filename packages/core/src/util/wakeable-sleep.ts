/**
 * A pause a polling loop can cut short: `sleep(ms)` waits, `wake()` ends the current wait at
 * once (new work arrived, or the loop is stopping). Waking with nobody asleep does nothing.
 */
export class WakeableSleep {
  private wakeUp: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
