// A separate process running extractFolder, so a test can SIGKILL it midway. Each batch is
// followed by a short synchronous pause (the tiny model is too fast to be caught otherwise).
import { createClipExtractor } from '../../src';

async function main(): Promise<void> {
  const [inDir, outDir, modelDir] = process.argv.slice(2) as [string, string, string];
  const extractor = await createClipExtractor({ model: modelDir, allowRemote: false });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  await extractor.extractFolder(inDir, outDir, {
    batchSize: 2,
    onProgress: ({ done }) => {
      process.stdout.write(`done ${done}\n`);
      Atomics.wait(pause, 0, 0, 60);
    },
  });
  process.stdout.write('finished\n');
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});
