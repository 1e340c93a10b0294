/**
 * A work budget that holds inside a PDF page. pdf.js runs its "worker" in this thread in Workers (a
 * fake worker over a promise-based port), and one getTextContent() is a chain of microtasks: nested
 * Form XObjects or a huge content stream can keep the isolate busy for seconds without ever letting
 * another request in, and nothing outside can stop it.
 *
 * pdf.js consults its text sink at the two places where it can pause: `desiredSize` once per content
 * stream operator (also inside nested forms, through their sink wrappers), and `ready` at every pause
 * (after each Form XObject, font load, full chunk or time slot). We hand it a sink that counts both,
 * forces a pause every so many operators, gives the event loop a turn (a timer) at those pauses so
 * other requests are served, and fails the page once the budget is spent, which ends the extraction.
 */

export type PdfBudgetLimits = {
  /** Content stream operators (nested forms included); a form drawn or a font loaded counts PAUSE_COST. */
  maxOperations: number;
  /** Wall-clock milliseconds for the whole document, measured at the pauses. */
  maxMs: number;
  /** Characters of text after which reading stops (the rest would be cut anyway). */
  stopAfterChars: number;
};

export type BudgetOutcome = 'operations' | 'time' | 'chars';

/** Operators between forced pauses; also how often a long page gives other requests a turn. */
const OPERATIONS_PER_PAUSE = 20_000;
/**
 * A pause that is neither forced by us nor after a chunk of text (a Form XObject drawn, a font
 * loaded) costs this many operators: the work behind one is about that of a thousand operators.
 */
const PAUSE_COST = 1000;
/** Give the event loop a turn at a pause once this much time or this many pauses went by. */
const YIELD_AFTER_MS = 20;
const YIELD_AFTER_PAUSES = 64;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class PdfBudgetExceeded extends Error {
  readonly outcome: BudgetOutcome;
  constructor(outcome: BudgetOutcome) {
    super(`PDF work budget spent (${outcome})`);
    this.name = 'PdfBudgetExceeded';
    this.outcome = outcome;
  }
}

export class PdfBudget {
  operations = 0;
  chars = 0;
  /** Set once the budget is spent; every later pause fails. */
  exceeded: BudgetOutcome | undefined;
  readonly #started = performance.now();
  #sincePause = 0;
  /** Whether the coming pause was forced by operation() or follows a chunk of text (no cost). */
  #cheapPause = false;
  #pausesSinceYield = 0;
  #lastYield = performance.now();

  readonly limits: PdfBudgetLimits;

  // No parameter properties: the bench runs this file in Node, which only strips types.
  constructor(limits: PdfBudgetLimits) {
    this.limits = limits;
  }

  get elapsedMs(): number {
    return performance.now() - this.#started;
  }

  /** One content stream operator; true when pdf.js should pause now (a forced pause or the end). */
  operation(): boolean {
    this.operations++;
    if (++this.#sincePause >= OPERATIONS_PER_PAUSE || this.exceeded) {
      this.#sincePause = 0;
      this.#cheapPause = true;
      return true;
    }
    return false;
  }

  text(chars: number): void {
    this.#cheapPause = true;
    this.chars += chars;
    if (this.chars > this.limits.stopAfterChars) this.exceeded ??= 'chars';
  }

  /** Checks the budget; rejects once it is spent, yields to the event loop now and then. */
  pause(): Promise<void> {
    if (!this.#cheapPause) this.operations += PAUSE_COST;
    this.#cheapPause = false;
    if (!this.exceeded) {
      if (this.operations > this.limits.maxOperations) this.exceeded = 'operations';
      else if (this.elapsedMs > this.limits.maxMs) this.exceeded = 'time';
    }
    if (this.exceeded) return Promise.reject(new PdfBudgetExceeded(this.exceeded));
    // Production Workers only advance the clock at I/O, so count pauses as well as time.
    if (++this.#pausesSinceYield >= YIELD_AFTER_PAUSES || performance.now() - this.#lastYield >= YIELD_AFTER_MS) {
      this.#pausesSinceYield = 0;
      return yieldToEventLoop().then(() => {
        this.#lastYield = performance.now();
      });
    }
    return Promise.resolve();
  }
}

/** The members of pdf.js's worker-side stream sink that its text extraction uses. */
type TextSink = {
  readonly desiredSize: number;
  readonly ready: Promise<unknown>;
  enqueue(chunk: { items?: { str?: string }[] }, size: number, transfer?: unknown): void;
  close(): void;
  error(reason: unknown): void;
  onPull?: unknown;
  onCancel?: unknown;
  isCancelled?: boolean;
};

function budgetedSink(sink: TextSink, budget: PdfBudget): TextSink {
  return {
    get desiredSize() {
      return budget.operation() ? 0 : sink.desiredSize;
    },
    get ready() {
      return budget.pause().then(() => sink.ready);
    },
    enqueue(chunk, size, transfer) {
      let chars = 0;
      for (const item of chunk.items ?? []) chars += item.str?.length ?? 0;
      budget.text(chars);
      sink.enqueue(chunk, size, transfer);
    },
    close: () => sink.close(),
    error: (reason) => sink.error(reason),
    get isCancelled() {
      return sink.isCancelled ?? false;
    },
  };
}

type TextContentHandler = (data: unknown, sink: TextSink) => unknown;
/** pdf.js's MessageHandler: both ends of the in-thread worker are instances of the same class. */
type MessageHandler = { comObj: object; on(name: string, handler: TextContentHandler): unknown };
type MessageHandlerPrototype = MessageHandler & { [HOOKED]?: true };

const HOOKED = Symbol('pdf-budget-hooked');
/** Set once the hook is in place: pdf.js is loaded once per isolate, so is the hook (a cache). */
let hooked = false;

/**
 * Budgets by the fake worker's port (its MessageHandler's `comObj`), so each document's
 * worker-side handler finds its own. A WeakMap: an entry goes with its worker; nothing is shared
 * between requests.
 */
const budgets = new WeakMap<object, PdfBudget>();

type WorkerMessageHandler = {
  setup(handler: MessageHandler, port: object): unknown;
  initializeFromPort(port: object): unknown;
};

/**
 * The prototype of the worker side's MessageHandler. pdf.js bundles its worker with its own copy of
 * the class and exports neither, but WorkerMessageHandler.initializeFromPort builds one and hands it
 * to WorkerMessageHandler.setup: we swap setup for a moment to catch it, on a port that goes nowhere.
 */
function workerMessageHandlerPrototype(): object {
  const holder = (globalThis as { pdfjsWorker?: { WorkerMessageHandler?: WorkerMessageHandler } }).pdfjsWorker;
  const worker = holder?.WorkerMessageHandler;
  if (!worker || typeof worker.setup !== 'function' || typeof worker.initializeFromPort !== 'function') {
    throw new Error('pdf.js does not expose WorkerMessageHandler: no work budget possible');
  }
  let prototype: object | undefined;
  const setup = worker.setup;
  worker.setup = (handler) => {
    prototype = Object.getPrototypeOf(handler) as object;
  };
  try {
    worker.initializeFromPort({ addEventListener() {}, removeEventListener() {}, postMessage() {} });
  } finally {
    worker.setup = setup;
  }
  if (!prototype) throw new Error('pdf.js WorkerMessageHandler built no handler: no work budget possible');
  return prototype;
}

/**
 * Wraps the worker-side MessageHandler.prototype.on once per isolate so that each document's
 * GetTextContent handler receives a budgeted sink when a budget is attached to its port. Call after
 * pdf.js is loaded (it publishes WorkerMessageHandler on globalThis.pdfjsWorker for its in-thread
 * worker). Throws when pdf.js no longer has that shape: better no PDFs than unbounded ones.
 */
export function installPdfBudgetHook(): void {
  if (hooked) return;
  const proto = workerMessageHandlerPrototype() as MessageHandlerPrototype;
  hooked = true;
  if (proto[HOOKED]) return;
  const on = proto.on;
  if (typeof on !== 'function') throw new Error('pdf.js MessageHandler has no on(): no work budget possible');
  proto.on = function (this: MessageHandler, name, handler) {
    if (name !== 'GetTextContent') return on.call(this, name, handler);
    const port = this.comObj;
    return on.call(this, name, function (this: unknown, data, sink) {
      const budget = budgets.get(port);
      return handler.call(this, data, budget ? budgetedSink(sink, budget) : sink);
    });
  };
  proto[HOOKED] = true;
}

/** Ties a budget to a worker's port (PDFWorker.port) until the worker is destroyed. */
export function attachBudget(port: object, budget: PdfBudget): void {
  budgets.set(port, budget);
}
