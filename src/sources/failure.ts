/** Why a source cannot be indexed; stored on the source as FAILED with this code and message. */
export class SourceFailure extends Error {
  constructor(
    readonly code: 'NO_TEXT' | 'PASSWORD_PROTECTED' | 'UNREADABLE' | 'UNSUPPORTED',
    message: string,
  ) {
    super(message);
  }
}
