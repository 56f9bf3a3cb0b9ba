import { KEY, keyToChar } from './uk-layout';

/**
 * Turns key events into phrases. Nothing here is ever written down: keys only change an
 * in-memory buffer, and a phrase leaves this class only to be scored at once.
 *
 *   typing ──► buffer ──(Enter · . ! ? · window change · idle · too long)──► phrase
 *     ▲            │
 *     └─ Backspace removes the last character; Ctrl+Backspace the last word
 *
 * In a password context (see password-context.ts) keys are not buffered at all, and what was
 * buffered is thrown away, until the window changes to one that is not.
 */

/** The window a phrase was typed in; `url` where the platform gives a browser's address. */
export type PhraseWindow = { title: string | null; app: string | null; url?: string | null };
export type Phrase = { text: string; window: PhraseWindow; at: Date };

export type AssemblerOptions = {
  onPhrase: (phrase: Phrase) => void;
  /** Quiet time after which a phrase is complete. */
  idleMs?: number;
  /** Longest phrase; a longer run of typing is cut here. */
  maxChars?: number;
  now?: () => number;
};

const SENTENCE_END = new Set(['.', '!', '?']);

export class PhraseAssembler {
  private buffer = '';
  private shiftDown = 0;
  private ctrlDown = 0;
  private altDown = 0;
  private capsLock = false;
  private lastKeyAt = 0;
  private window: PhraseWindow = { title: null, app: null };
  private suppressed = false;
  private readonly idleMs: number;
  private readonly maxChars: number;
  private readonly now: () => number;

  constructor(private readonly options: AssemblerOptions) {
    this.idleMs = options.idleMs ?? 3000;
    this.maxChars = options.maxChars ?? 500;
    this.now = options.now ?? Date.now;
  }

  /** The foreground window changed: what was typed so far is a phrase of the old window. */
  setWindow(window: PhraseWindow, suppressed: boolean): void {
    this.flush();
    this.window = window;
    this.suppressed = suppressed;
  }

  /** Caps lock as the OS reports it at start (the hook only sees changes). */
  setCapsLock(on: boolean): void {
    this.capsLock = on;
  }

  keydown(code: number): void {
    this.lastKeyAt = this.now();
    switch (code) {
      case KEY.shift:
      case KEY.shiftRight:
        this.shiftDown++;
        return;
      case KEY.ctrl:
      case KEY.ctrlRight:
      case KEY.meta:
      case KEY.metaRight:
        this.ctrlDown++;
        return;
      case KEY.alt:
      case KEY.altRight:
        this.altDown++;
        return;
      case KEY.capsLock:
        this.capsLock = !this.capsLock;
        return;
      case KEY.enter:
      case KEY.numpadEnter:
      case KEY.tab:
        this.flush();
        return;
      case KEY.escape:
        this.buffer = '';
        return;
      case KEY.backspace:
        if (this.ctrlDown > 0) this.buffer = this.buffer.replace(/\S*\s*$/, '');
        else this.buffer = this.buffer.slice(0, -1);
        return;
      case KEY.delete:
        return; // the cursor is taken to be at the end: nothing after it to delete
    }
    if (this.suppressed || this.ctrlDown > 0 || this.altDown > 0) return; // shortcuts type nothing
    const ch = keyToChar(code, this.shiftDown > 0, this.capsLock);
    if (ch === null) return;
    this.buffer += ch;
    if (SENTENCE_END.has(ch)) this.flush();
    else if (this.buffer.length >= this.maxChars) this.flush();
  }

  keyup(code: number): void {
    if (code === KEY.shift || code === KEY.shiftRight) this.shiftDown = Math.max(0, this.shiftDown - 1);
    else if (code === KEY.ctrl || code === KEY.ctrlRight || code === KEY.meta || code === KEY.metaRight) this.ctrlDown = Math.max(0, this.ctrlDown - 1);
    else if (code === KEY.alt || code === KEY.altRight) this.altDown = Math.max(0, this.altDown - 1);
  }

  /** Call now and then: a phrase is complete after `idleMs` without keys. */
  tick(): void {
    if (this.buffer !== '' && this.now() - this.lastKeyAt >= this.idleMs) this.flush();
  }

  /** Completes the phrase typed so far (if any). */
  flush(): void {
    const text = this.buffer.trim();
    this.buffer = '';
    if (this.suppressed || text === '') return;
    this.options.onPhrase({ text, window: this.window, at: new Date(this.now()) });
  }
}
