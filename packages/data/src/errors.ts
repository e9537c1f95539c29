/** What went wrong with a dataset, so callers (and the CLI) can react without parsing messages. */
export type DatasetProblem =
  | 'missing-folder'
  | 'empty'
  | 'duplicate-name'
  | 'missing-partner'
  | 'size-mismatch'
  | 'unreadable'
  | 'missing-embedding'
  | 'bad-embedding'
  | 'too-small'
  | 'state-mismatch';

/** A dataset error; `files` names every file involved. */
export class DatasetError extends Error {
  constructor(
    readonly problem: DatasetProblem,
    message: string,
    readonly files: string[] = [],
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}
