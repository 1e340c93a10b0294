type FailureCode = 'NO_TEXT' | 'PASSWORD_PROTECTED' | 'UNREADABLE' | 'UNSUPPORTED' | 'TOO_LARGE';

/** Why a source cannot be indexed; stored on the source as FAILED with this code and message. */
export class SourceFailure extends Error {
  // A plain field, not a parameter property: the bench runs src/ in Node's strip-only TypeScript mode.
  readonly code: FailureCode;

  constructor(code: FailureCode, message: string) {
    super(message);
    this.code = code;
  }
}
