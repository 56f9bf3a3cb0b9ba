import { isPasswordContext } from './password-context';
import { PhraseAssembler, type Phrase, type PhraseWindow } from './phrase-assembler';
import { uiohookKeyHook, type KeyHook } from './key-hook';

export type KeysSourceOptions = {
  onPhrase: (phrase: Phrase) => void;
  hook?: KeyHook;
  idleMs?: number;
};

/**
 * The keys source: a global key hook feeding the phrase assembler. Runner: start() / stop().
 * It learns the foreground window from the window source (setWindow), which both completes
 * the phrase in progress and switches password contexts on and off.
 */
export class KeysSource {
  private readonly assembler: PhraseAssembler;
  private readonly hook: KeyHook;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(options: KeysSourceOptions) {
    this.assembler = new PhraseAssembler({ onPhrase: options.onPhrase, idleMs: options.idleMs ?? 3000 });
    this.hook = options.hook ?? uiohookKeyHook();
  }

  start(): void {
    if (this.running) return;
    this.hook.start(
      (code) => this.assembler.keydown(code),
      (code) => this.assembler.keyup(code),
    );
    this.timer = setInterval(() => this.assembler.tick(), 250);
    this.timer.unref();
    this.running = true;
  }

  setWindow(window: PhraseWindow): void {
    this.assembler.setWindow(window, isPasswordContext(window.title, window.app));
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.hook.stop();
    this.assembler.flush();
  }
}
