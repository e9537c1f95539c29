/**
 * Every problem found while reading a `torch.save` file: the message names the file (and, where
 * there is one, the key path of the tensor or the pickle opcode) so a user knows what to fix.
 */
export class TorchFileError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'TorchFileError';
  }
}
