import readline from 'node:readline';

/**
 * Questions on the terminal, when both stdin and stdout are one; undefined otherwise (a
 * script, CI), so that nothing waits for an answer no one will give.
 */
export function terminalAsk(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stdout): { ask: (question: string) => Promise<string>; close: () => void } | undefined {
  if (!input.isTTY || !output.isTTY) return undefined;
  const rl = readline.createInterface({ input, output });
  let closed = false;
  rl.once('close', () => (closed = true));
  // Without a listener readline only pauses on Ctrl-C; closing rejects the question pending.
  rl.on('SIGINT', () => rl.close());
  const ask = (question: string) =>
    new Promise<string>((resolve, reject) => {
      if (closed) return reject(new Error('the terminal closed before an answer was given'));
      // Ctrl-C or Ctrl-D: stop with a clear message instead of waiting forever.
      const onClose = () => reject(new Error('cancelled: nothing was written'));
      rl.once('close', onClose);
      rl.question(question, (answer) => {
        rl.off('close', onClose);
        resolve(answer);
      });
    });
  return { ask, close: () => rl.close() };
}
