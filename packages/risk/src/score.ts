import { compileLexicon, type CompiledLexicon, type Match, type Rule } from './lexicon/compile';
import { CONTEXT_KINDS, type ContextKind } from './lexicon/source';
import { isLaughter, stem, tokenize, Token } from './normalise';
import { Model } from './model/model';
import { CATEGORY_PRIORITY, clampSeverity, type Category, type Severity } from './taxonomy';

export type Source = 'title' | 'keys' | 'screen';
export type AgeBand = 'primary' | 'secondary' | 'staff';

export type ScoreOptions = {
  source: Source;
  /** The application in the foreground, e.g. "chrome.exe". */
  app?: string;
  /** The window title, which may say the text is homework, revision or news. */
  title?: string;
  ageBand?: AgeBand;
};

export type ScoredMatch = {
  ruleId: string;
  category: Category;
  /** Severity of this match after context. */
  severity: Severity;
  /** UTF-16 offsets of the matched words in the scored text: [start, end). */
  start: number;
  end: number;
};

/** One context rule that moved a match's severity: a stable name and the step (+1, −3; 0 for a cap). */
export type Adjustment = { name: string; delta: number };

/**
 * Why one rule fired, as data (the `explanation` string says the same in words). Stable shape:
 * the DSL's view and the wire carry it.
 */
export type Reason = {
  ruleId: string;
  category: Category;
  /**
   * term: a listed phrase; pair: two words near each other; frame: word classes near each other,
   * with a context it needs; learned: the learned model (src/model), its words marked by the
   * matches' offsets.
   */
  kind: 'term' | 'pair' | 'frame' | 'learned';
  /** The rule's own severity before context. */
  base: Severity;
  /** Boosters and dampeners in the order applied; `corroborated` when a second rule of the category agreed. */
  adjustments: Adjustment[];
  /** Severity after context. */
  severity: Severity;
  /** Word classes the rule's parts are written over ("body_parts", "injury_verbs"). */
  classes?: string[];
  /** Context kinds the frame needed and found ("first_person"). */
  needs?: string[];
  /** The other rule that corroborated this one. */
  corroboratedBy?: string;
  /** learned: the model's probability for the category, in per cent. */
  confidence?: number;
  /**
   * learned: the (stemmed) words and word pairs that carried the score, strongest first. Words
   * of the captured text: for the device and evaluation only, never sent (the wire's explanation
   * carries no captured text; the words are marked in the evidence by the matches instead).
   */
  features?: string[];
};

export type ScoreResult = {
  category: Category | null;
  severity: Severity;
  /** Matches of the reported category first, strongest first. */
  matches: ScoredMatch[];
  /** Why flagged (or why not), for the DSL: rule, base severity, each booster and dampener. */
  explanation: string;
  /** The same, as data: one entry per reported match (at most ten), in the order of `matches`. */
  reasons: Reason[];
};

/** Categories where time, plans and farewells make a concern more urgent. */
const URGENT: ReadonlySet<Category> = new Set(['suicide', 'self_harm', 'violence', 'extremism']);
/** Categories whose words are everyday hyperbole in games and banter ("kill you next round"). */
const PLAYFUL: ReadonlySet<Category> = new Set(['violence', 'suicide']);
/** Categories where quoting a phrase to condemn it (counter-speech) is common. */
const COUNTER_SPEECH: ReadonlySet<Category> = new Set(['discrimination', 'extremism', 'bullying']);
/** Exposure matters more for young children; some things are legal for adults. */
const AGE_SHIFT: Record<AgeBand, Partial<Record<Category, number>>> = {
  primary: { pornography: 1, cse: 1, violence: 1, gambling: 1, drugs: 1 },
  secondary: {},
  staff: { gambling: -1, drugs: -1 },
};

const CATEGORY_CAP: Partial<Record<Category, Severity>> = { gambling: 4, drugs: 4, pornography: 4 };

/** One bit per context kind, for the per-token masks. */
const KIND_BIT = Object.fromEntries(CONTEXT_KINDS.map((k, i) => [k, 1 << i])) as Record<ContextKind, number>;

const INTENT_WINDOW = 4;
/** "be" after a negation is an imperative aimed at the reader ("don't be a …"), not a denial. */
const IMPERATIVE_BE: ReadonlySet<string> = new Set(['be', 'being', 'act', 'acting']);
/**
 * A search is the searcher's own question: "how to hurt yourself" is asked about oneself. In a
 * search, second-person words are read as first-person ones (see Scorer.read).
 */
const SEARCH_REFLEXIVE: ReadonlyMap<string, string> = new Map([
  ['yourself', 'myself'],
  ['urself', 'myself'],
  ['yourselves', 'myself'],
  ['your', 'my'],
]);
/** "you" itself is the searcher only as the subject of a question ("do you pass out"), not as an object ("everyone hates you"). */
const SEARCH_SUBJECT_BEFORE: ReadonlySet<string> = new Set(['do', 'can', 'if', 'would', 'will', 'should', 'could', 'until', 'before', 'when']);
/** First words that make a typed line or a title a search ("how …", "ways to …", "can you …"). */
const SEARCH_OPENERS: ReadonlySet<string> = new Set(['how', 'ways', 'way', 'best', 'easiest', 'quickest', 'fastest', 'painless', 'does', 'can', 'where']);
/** Words in the window titles of search engines and question sites. */
const SEARCH_SITES: ReadonlySet<string> = new Set(['search', 'bing', 'duckduckgo', 'youtube', 'reddit', 'quora', 'tiktok', 'yahoo']);
const NEGATION_WINDOW = 1;
/**
 * Words that make a school word the person told rather than the lesson: "tell a teacher",
 * "go cry to sir", "snitch to miss". A teacher told is a threat's condition, not education.
 */
const TELL_VERBS: ReadonlySet<string> = new Set(['tell', 'tells', 'telling', 'told', 'snitch', 'snitches', 'snitching', 'grass', 'grassing', 'report', 'reporting', 'cry', 'crying', 'run', 'running', 'go', 'goes', 'went']);
/** How far back (words) a schoolwork frame ("we learned about", "my essay on") governs a topic. */
const DISCUSSING_WINDOW = 8;
/** How far back (words) a condition ("if you tell …", "report me and …") governs a threat after it. */
const CONDITION_WINDOW = 8;
/**
 * Auxiliaries and adverbs a negation reaches across ("not going to", "never gonna", "wont ever",
 * "not actually"): the denial still governs the verb after them. "be" is not one of them, so a
 * negated absence ("not going to be here") is a statement, not a denial.
 */
const NEGATION_BRIDGE: ReadonlySet<string> = new Set(['going', 'to', 'gonna', 'gunna', 'goin', 'ever', 'evr', 'really', 'actually', 'even', 'just', 'seriously', 'literally']);
/** Most bridge words between a negation and what it denies. */
const NEGATION_REACH = 3;
const THIRD_PERSON_WINDOW = 4;

/** How far (in words) a context word may be from a match and still count as "in the text". */
const SENTENCE_WINDOW = 20;

type Context = {
  tokens: Token[];
  /**
   * Per token, one bit per context kind (KIND_BIT): where an occurrence starts, where one ends
   * (end = last token + 1), and which tokens are inside one. Three arrays for all kinds.
   */
  starts: Int32Array;
  ends: Int32Array;
  inside: Int32Array;
  /** Bits of the kinds that occur anywhere in this stretch. */
  present: number;
  /** Per token: is it between quotation marks in the original text? Computed when needed. */
  quoted: Uint8Array | null;
  text: string;
  educationalTitle: boolean;
  /** A screen whose first line (the window's header) names a lesson, worksheet or revision site. */
  lessonHeader: boolean;
  /** The scored text is itself a window title. */
  isTitle: boolean;
};

/**
 * Long texts (a whole screen of OCR) are scored in overlapping windows of this many characters:
 * memory stays bounded and cost stays linear, and every context rule looks at most twenty words
 * away, well inside the overlap.
 */
const WINDOW_CHARS = 8192;
const WINDOW_OVERLAP = 512;

export class Scorer {
  constructor(
    readonly lexicon: CompiledLexicon,
    /** The learned signal, consulted where the lexicon says less than 4 (see `learned`). */
    readonly model: Model | null = null,
  ) {}

  score(text: string, options: ScoreOptions): ScoreResult {
    // A browser's history page lists searches under the header "History": that word is the page's
    // name, not a lesson. Blanked (offsets kept), so it neither marks a lesson nor is read.
    if (options.source === 'screen') {
      const head = firstLine(text);
      if (BROWSER_HISTORY.test(head)) text = ' '.repeat(head.length) + text.slice(head.length);
    }
    const educational = options.title !== undefined ? this.titleIsEducational(options.title) : null;
    // A screen's first line is usually the window's own header ("E-safety lesson Year 8", "Chemistry Worksheet 4").
    const header = options.source === 'screen' && educational === null ? this.titleIsEducational(firstLine(text)) : false;
    const { result, words, present } = this.scoreLexicon(text, options, educational, header);
    if (!this.model || result.severity >= 4 || educational === true || header) return result;
    // The model reads the first 200 words: of a long screen, its start.
    return learned(this.model, words ?? tokenize(text.slice(0, 4096)), result, options, present);
  }

  /** The lexicon's result, and for a text read in one window its words and context kinds (for the learned part). */
  private scoreLexicon(text: string, options: ScoreOptions, educational: boolean | null, header: boolean): Window {
    if (text.length <= WINDOW_CHARS) return this.scoreWindow(text, 0, options, educational, header);
    let best: ScoreResult | null = null;
    const seen = new Set<string>();
    const all: ScoredMatch[] = [];
    for (let start = 0; ; ) {
      let end = Math.min(text.length, start + WINDOW_CHARS);
      if (end < text.length) {
        const space = text.lastIndexOf(' ', end);
        if (space > start + WINDOW_CHARS / 2) end = space;
      }
      const r = this.scoreWindow(text.slice(start, end), start, options, educational, header).result;
      if (r.severity > 0 && (!best || r.severity > best.severity)) best = r;
      for (const m of r.matches) {
        const key = `${m.ruleId}:${m.start}:${m.end}`;
        if (!seen.has(key) && all.length < MAX_REPORTED) {
          seen.add(key);
          all.push(m);
        }
      }
      if (end >= text.length) break;
      let next = Math.max(start + 1, end - WINDOW_OVERLAP);
      const space = text.indexOf(' ', next);
      if (space >= 0 && space < end) next = space + 1;
      start = next;
    }
    if (!best) return { result: nothingFound(), words: null, present: 0 };
    const top = best;
    const first = all.filter((m) => m.category === top.category && m.severity === top.severity);
    const rest = all.filter((m) => !(m.category === top.category && m.severity === top.severity));
    return { result: { ...top, matches: [...first, ...rest] }, words: null, present: 0 };
  }

  /** Words of a text and every lexicon match in them; words run together ("ihate") are split. */
  private read(text: string, search = false, title = false): { words: readonly Token[]; tokens: Token[]; found: Match[] } {
    const words = tokenize(text);
    let tokens = words;
    if (search && tokens.length && (SEARCH_OPENERS.has(tokens[0]!.text) || (title && tokens.some((t) => SEARCH_SITES.has(t.text))))) {
      tokens = tokens.map((t, i) => {
        const own = SEARCH_REFLEXIVE.get(t.text) ?? (t.text === 'you' && SEARCH_SUBJECT_BEFORE.has(tokens[i - 1]?.text ?? '') ? 'i' : undefined);
        return own ? new Token(own, t.start, t.end) : t;
      });
    }
    let ids = new Int32Array(tokens.length);
    let runOns: Map<number, [Token, Token]> | null = null;
    for (let i = 0; i < tokens.length; i++) ids[i] = this.lexicon.resolve(tokens[i]!);
    for (let i = 0; i < tokens.length; i++) {
      if (ids[i] !== -1) continue;
      // An unknown word beside a term's word may be that term's word misspelt or masked.
      const left = i > 0 ? ids[i - 1]! : -1;
      const right = i + 1 < tokens.length ? ids[i + 1]! : -1;
      if (this.lexicon.hasNeighbours(left) || this.lexicon.hasNeighbours(right)) {
        const guess = this.lexicon.guessBeside(tokens[i]!, left, right);
        if (guess >= 0) {
          ids[i] = guess;
          continue;
        }
      }
      const split = this.lexicon.splitRunOn(tokens[i]!);
      if (split) (runOns ??= new Map()).set(i, split);
    }
    if (runOns) {
      const old = ids;
      const split: Token[] = [];
      ids = new Int32Array(tokens.length + runOns.size);
      let j = 0;
      tokens.forEach((t, i) => {
        const parts = runOns!.get(i);
        if (!parts) {
          split.push(t);
          ids[j++] = old[i]!;
          return;
        }
        for (const part of parts) {
          split.push(part);
          ids[j++] = this.lexicon.resolve(part);
        }
      });
      tokens = split;
    }
    return { words, tokens, found: this.lexicon.chainSlots(this.lexicon.scan(ids), ids) };
  }

  /**
   * Scores one stretch of text; offsets in the result are shifted by `base`. `titleIsEducational`
   * is decided once per text for a separate window title (null when the text is the title).
   */
  private scoreWindow(text: string, base: number, options: ScoreOptions, titleIsEducational: boolean | null, lessonHeader: boolean): Window {
    // A search title or a typed question ("how do you …") is about the searcher.
    const { words, tokens, found } = this.read(text, options.source === 'title' || options.source === 'keys', options.source === 'title');
    // Most text holds context words ("i", "you") and nothing to score: stop before building context
    // (noting which kinds are present, for the learned part).
    if (!found.some((m) => m.payloads.some((p) => p.kind !== 'context'))) {
      let present = 0;
      for (const m of found) for (const p of m.payloads) if (p.kind === 'context') present |= KIND_BIT[p.context];
      return { result: nothingFound(), words, present };
    }

    const n = tokens.length + 1;
    const ctx: Context = {
      tokens,
      starts: new Int32Array(n),
      ends: new Int32Array(n),
      inside: new Int32Array(n),
      present: 0,
      quoted: null,
      text,
      educationalTitle: false,
      lessonHeader,
      isTitle: options.source === 'title',
    };
    const terms: Array<{ rule: Rule; start: number; end: number; gap?: { start: number; end: number } }> = [];
    const pairParts = new Map<number, Match[][]>();
    for (const m of found) {
      for (const p of m.payloads) {
        if (p.kind === 'context') {
          const bit = KIND_BIT[p.context];
          ctx.present |= bit;
          ctx.starts[m.start]! |= bit;
          ctx.ends[m.end]! |= bit;
          for (let i = m.start; i < m.end; i++) ctx.inside[i]! |= bit;
        } else if (p.kind === 'term') {
          const rule = this.lexicon.rules[p.rule]!;
          if (rule.exactForms && m.end - m.start === 1 && !sameForm(rule.exactForms, tokens[m.start]!)) continue;
          terms.push({ rule, start: m.start, end: m.end });
        } else {
          let parts = pairParts.get(p.rule);
          if (!parts) pairParts.set(p.rule, (parts = [[], [], []]));
          parts[p.part]!.push(m);
        }
      }
    }
    for (const [ruleIndex, parts] of pairParts) {
      const rule = this.lexicon.rules[ruleIndex]!;
      const window = rule.window ?? 5;
      const accept = rule.needs ? (s: number, e: number) => rule.needs!.some((k) => covers(ctx.inside, KIND_BIT[k], Math.max(0, s - 3), e)) : null;
      const hit =
        rule.parts === 3 ? nearestFrame(parts, window, accept) : rule.parts === 1 ? firstAccepted(parts[0]!, accept) : nearestPair(parts[0]!, parts[1]!, window, accept);
      if (hit) terms.push({ rule, start: hit.start, end: hit.end, gap: hit.gap });
    }

    // Laughter written out ("hahaha", "jajaja", "kkkk") is a joke marker in any language.
    for (let i = 0; i < tokens.length; i++) {
      if (!isLaughter(tokens[i]!.text)) continue;
      ctx.present |= KIND_BIT.joking;
      ctx.starts[i]! |= KIND_BIT.joking;
      ctx.ends[i + 1]! |= KIND_BIT.joking;
      ctx.inside[i]! |= KIND_BIT.joking;
    }
    ctx.educationalTitle = lessonHeader || (titleIsEducational ?? (options.source === 'title' && (ctx.present & KIND_BIT.educational_titles) !== 0));


    const scored: Array<Scored> = [];
    for (const t of terms) {
      if (covers(ctx.inside, KIND_BIT.allow, t.start, t.end)) continue;
      const { severity, why, reason } = this.adjust(t.rule, t.start, t.end, ctx, options.ageBand ?? 'secondary', t.gap);
      if (severity === 0 && why === '') continue;
      scored.push({
        reason,
        ruleId: t.rule.id,
        category: t.rule.category,
        severity,
        start: base + tokens[t.start]!.start,
        end: base + tokens[t.end - 1]!.end,
        why,
      });
    }
    corroborate(scored);
    return { result: summarise(scored), words, present: ctx.present };
  }

  private titleIsEducational(title: string): boolean {
    // A browser's own history page lists searches: it is not a history lesson.
    if (BROWSER_HISTORY.test(title)) return false;
    return this.read(title).found.some((m) => m.payloads.some((p) => p.kind === 'context' && p.context === 'educational_titles'));
  }

  private adjust(
    rule: Rule,
    start: number,
    end: number,
    ctx: Context,
    ageBand: AgeBand,
    gap?: { start: number; end: number },
  ): { severity: Severity; why: string; reason: Reason } {
    const notes: string[] = [];
    const adjustments: Adjustment[] = [];
    const note = (text: string, name: string, delta: number) => {
      notes.push(text);
      adjustments.push({ name, delta });
    };
    let boost = 0;
    let damp = 0;
    // An occurrence counts as near when it ends at most `before` words before the match or
    // starts within the `after` words that follow it; "anywhere" means within the same stretch of text.
    const near = (kind: ContextKind, before: number, after = 0) => {
      const bit = KIND_BIT[kind];
      if ((ctx.present & bit) === 0) return false;
      for (let i = Math.max(0, start - before); i <= start; i++) if ((ctx.ends[i]! & bit) !== 0) return true;
      for (let i = end; i < Math.min(ctx.tokens.length, end + after); i++) if ((ctx.starts[i]! & bit) !== 0) return true;
      return false;
    };
    const anywhere = (kind: ContextKind) => near(kind, SENTENCE_WINDOW, SENTENCE_WINDOW);
    const strong = rule.flags.has('strong');
    // A bare "no" before "i …" answers a question ("u ok?" "no i cut again"); it does not deny.
    const answer = [start - 1, start - 2].some((i) => i >= 0 && ctx.tokens[i]!.text === 'no' && (ctx.starts[i + 1]! & KIND_BIT.first_person) !== 0);
    // "Don't be such a loser", "stop being pathetic": an imperative presupposes the insult.
    const imperative =
      (rule.category === 'bullying' || rule.category === 'discrimination') && IMPERATIVE_BE.has(ctx.tokens[start - 1]?.text ?? '') ||
      ((rule.category === 'bullying' || rule.category === 'discrimination') && IMPERATIVE_BE.has(ctx.tokens[start - 2]?.text ?? '') && ctx.tokens[start - 1]?.text === 'such');
    const negated = (near('negation', NEGATION_WINDOW) || negatedAcross(ctx, start)) && !answer && !imperative;
    const firstPerson = anywhere('first_person') || covers(ctx.inside, KIND_BIT.first_person, start, end);
    const ownQuestion = firstPerson || anywhere('searching');

    // A topic argued, studied or written about ("in re we learned about …", "my essay on …"),
    // even by the writer: schoolwork, not a disclosure or own involvement.
    const discussed = !strong && (near('discussing', DISCUSSING_WINDOW) || covers(ctx.inside, KIND_BIT.discussing, start, end));
    // In a news report a time says when it happened, not when it is planned.
    const reported = anywhere('reporting');
    if (URGENT.has(rule.category)) {
      if (anywhere('time') && !reported) {
        boost++;
        note('time (+1)', 'time', 1);
      }
      if (rule.category === 'suicide' && anywhere('farewell')) {
        boost++;
        note('farewell (+1)', 'farewell', 1);
      }
      // "not going to …" is no intent: a denied plan does not raise.
      if (near('intent', INTENT_WINDOW) && !negated) {
        boost++;
        note('intent (+1)', 'intent', 1);
      }
      if (rule.flags.has('method') && ownQuestion) {
        boost++;
        note('means with first person (+1)', 'means_first_person', 1);
      }
      boost = Math.min(boost, 2);
    }
    // Between a pair's parts only a short gap is one clause ("women do not deserve …").
    const gapNegated = gap !== undefined && gap.end - gap.start <= 4 && covers(ctx.inside, KIND_BIT.negation, gap.start, gap.end);
    if (negated || gapNegated) {
      // "No one deserves to die", "I'm not going to hurt anyone": the statement is denied.
      damp += 3;
      note('negation (−3)', 'negation', -3);
    }
    if (
      (rule.category === 'suicide' || rule.category === 'self_harm') &&
      !strong &&
      !rule.flags.has('direct') &&
      near('third_person', THIRD_PERSON_WINDOW) &&
      !near('first_person', THIRD_PERSON_WINDOW)
    ) {
      damp += 1;
      note('third person (−1)', 'third_person', -1);
    }
    if (!strong && anywhere('reporting')) {
      damp += 1;
      note('news or reporting (−1)', 'reporting', -1);
    }
    if (rule.category === 'discrimination' && !rule.pair && near('self_reference', 1)) {
      damp += 2;
      note('self-reference, reclaimed use (−2)', 'self_reference', -2);
    }
    // "If you tell a teacher …", "report me and …": the reporting words are the threat's condition.
    const conditional = near('threat_condition', CONDITION_WINDOW) || covers(ctx.inside, KIND_BIT.threat_condition, start, end);
    if (COUNTER_SPEECH.has(rule.category) && !conditional) {
      // Quoting a phrase and condemning it are separate signals; together they lower more.
      if (isQuoted(ctx, start, end)) {
        damp += 2;
        note('quoted (−2)', 'quoted', -2);
      }
      // A condemnation that governs the words ("calling people X is not okay") lowers more.
      if (near('quoting', 4, 4) || covers(ctx.inside, KIND_BIT.quoting, start, end)) {
        damp += 3;
        note('counter-speech (−3)', 'counter_speech', -3);
      } else if (anywhere('quoting')) {
        damp += 2;
        note('counter-speech (−2)', 'counter_speech', -2);
      }
    }
    // A lesson's own title ("E-safety lesson: what is sextortion?") is education even for strong terms.
    // On a lesson's screen "you" is the generic reader, so only the writer's own voice keeps strong terms.
    const lessonTitle = ctx.educationalTitle && ((ctx.isTitle && !anywhere('second_person')) || ctx.lessonHeader) && !firstPerson;
    if ((!strong || lessonTitle) && (ctx.educationalTitle || discussed || (!firstPerson && !conditional && educationalInText(ctx, start, end)))) {
      damp += 2;
      note('educational context (−2)', 'educational', -2);
    }
    if ((rule.category === 'drugs' || rule.category === 'gambling') && ownQuestion && !negated && !discussed) {
      boost++;
      note('own involvement (+1)', 'own_involvement', 1);
    }
    if (PLAYFUL.has(rule.category) && !strong) {
      // A game named ("next round", "respawn") all but settles a threat; a joke marker ("lol")
      // also masks real distress, so it lowers less and never lowers suicide below low.
      if (anywhere('play')) {
        const by = rule.category === 'violence' ? 3 : 2;
        damp += by;
        note(`game context (−${by})`, 'game', -by);
      } else if (anywhere('joking')) {
        damp += 2;
        note('joking (−2)', 'joking', -2);
      }
    }
    if ((rule.category === 'suicide' || rule.category === 'self_harm') && anywhere('help_seeking') && !firstPerson) {
      damp += 2;
      note('help-seeking (−2)', 'help_seeking', -2);
    }
    const shift = AGE_SHIFT[ageBand][rule.category] ?? 0;
    if (shift) note(`${ageBand} (${shift > 0 ? '+' : '−'}${Math.abs(shift)})`, `age_${ageBand}`, shift);
    let severity = clampSeverity(rule.severity + boost - damp + shift);
    // Critical (5) means a life at risk or illegal content; a gambling, drugs or pornography
    // concern stops at severe unless its rule says otherwise (an overdose is marked strong).
    const cap = CATEGORY_CAP[rule.category];
    if (cap !== undefined && severity > cap && !strong) {
      severity = cap;
      note(`at most ${cap} for ${rule.category}`, 'cap', 0);
    }
    const why = `${rule.id} (${rule.severity})${notes.length ? ' ' + notes.join(', ') : ''} → ${severity}`;
    const reason: Reason = { ruleId: rule.id, category: rule.category, kind: rule.parts === 3 || rule.needs ? 'frame' : rule.pair ? 'pair' : 'term', base: rule.severity, adjustments, severity };
    if (rule.classes?.some((c) => c.length)) reason.classes = rule.classes.flat();
    if (rule.needs) reason.needs = [...rule.needs];
    return { severity, why, reason };
  }
}

/**
 * A lesson or school word within the sentence window of the match that is not the person told
 * ("tell a teacher", "go cry to the teacher"): only then does it make the text educational.
 */
function educationalInText(ctx: Context, start: number, end: number): boolean {
  const bit = KIND_BIT.educational_titles;
  if ((ctx.present & bit) === 0) return false;
  const to = Math.min(ctx.tokens.length, end + SENTENCE_WINDOW);
  for (let i = Math.max(0, start - SENTENCE_WINDOW); i < to; i++) {
    if ((ctx.starts[i]! & bit) === 0) continue;
    let told = false;
    for (let j = Math.max(0, i - 3); j < i && !told; j++) told = TELL_VERBS.has(ctx.tokens[j]!.text);
    if (!told) return true;
  }
  return false;
}

/** A negation that ends just before a run of bridge words ("not going to", "never gonna ever") that reaches the match. */
function negatedAcross(ctx: Context, start: number): boolean {
  if ((ctx.present & KIND_BIT.negation) === 0) return false;
  let i = start - 1;
  let bridged = 0;
  while (i >= 0 && bridged < NEGATION_REACH && NEGATION_BRIDGE.has(ctx.tokens[i]!.text)) {
    i--;
    bridged++;
  }
  return bridged > 0 && (ctx.ends[i + 1]! & KIND_BIT.negation) !== 0;
}

/** Is the token written in one of these forms (as typed, or read through leetspeak)? */
function sameForm(forms: ReadonlySet<string>, token: Token): boolean {
  if (forms.has(token.text)) return true;
  for (const v of token.variants) if (forms.has(v)) return true;
  return token.text.length > 5 && !forms.has(stem(token.text)); // a typo reading of an inflected form, not its stem
}

/** What scoring a text with the lexicon gives the learned part: the words as written (before a search's reflexives are read or run-on words split) and the context kinds present (bits of KIND_BIT); words null for a text read in several windows. */
type Window = { result: ScoreResult; words: readonly Token[] | null; present: number };

/** The title or header of a browser's history page ("History - Google Chrome", "History – Microsoft Edge"). */
const BROWSER_HISTORY = /^\s*(?:browsing |search )?history\s*(?:[-–—|:]\s*(?:google chrome|chromium|microsoft\s*edge|edge|mozilla firefox|firefox|brave|opera|safari|vivaldi)\b.*)?\s*$/i;

/** The first line of a text, at most 200 characters: where a screen shows its window's header. */
function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return text.slice(0, Math.min(nl < 0 ? text.length : nl, 200));
}

function nothingFound(): ScoreResult {
  return { category: null, severity: 0, matches: [], explanation: 'no rule matched', reasons: [] };
}

/** True if any token in [start, end) has one of the bits set. */
function covers(mask: ArrayLike<number> | null, bits: number, start: number, end: number): boolean {
  if (!mask) return false;
  for (let i = start; i < end; i++) if ((mask[i]! & bits) !== 0) return true;
  return false;
}

/**
 * The first a–b pair within the window, either order, as one token range. Both lists come in
 * scan order (by end); a sliding pointer keeps this linear in their lengths.
 */
function nearestPair(
  a: Match[],
  b: Match[],
  window: number,
  accept: ((start: number, end: number) => boolean) | null = null,
): { start: number; end: number; gap: { start: number; end: number } } | null {
  let lo = 0;
  for (const x of a) {
    // b matches that end too early to be within the window before x can never pair with a later x.
    while (lo < b.length && b[lo]!.end < x.start - window) lo++;
    for (let j = lo; j < b.length; j++) {
      const y = b[j]!;
      if (y.end > x.end + window + 16) break; // b is in end order; no phrase is 16 words long
      if (y.start > x.end + window) continue;
      if (x.start < y.end && y.start < x.end) continue; // the same words cannot be both parts
      const gap = x.end <= y.start ? y.start - x.end : x.start - y.end;
      if (gap <= window) {
        const [first, second] = x.end <= y.start ? [x, y] : [y, x];
        if (accept && !accept(first.start, second.end)) continue;
        return { start: first.start, end: second.end, gap: { start: first.end, end: second.start } };
      }
    }
  }
  return null;
}

/** A one-part frame: the first occurrence whose surroundings hold what the frame needs. */
function firstAccepted(a: Match[], accept: ((start: number, end: number) => boolean) | null): { start: number; end: number; gap: { start: number; end: number } } | null {
  for (const x of a) if (!accept || accept(x.start, x.end)) return { start: x.start, end: x.end, gap: { start: x.end, end: x.end } };
  return null;
}

/** Most candidate spans a frame tries per text: keeps a long screen linear. */
const FRAME_TRIES = 256;

/**
 * A frame: three parts (each usually a word class), every part within `window` words of the
 * span the others make, in any order, on separate words. The first span that `accept`s wins.
 */
function nearestFrame(
  parts: Match[][],
  window: number,
  accept: ((start: number, end: number) => boolean) | null,
): { start: number; end: number; gap: { start: number; end: number } } | null {
  const [a, b, c] = parts as [Match[], Match[], Match[]];
  if (!a.length || !b.length || !c.length) return null;
  let tries = 0;
  const apart = (x: Match, y: Match) => !(x.start < y.end && y.start < x.end);
  const dist = (x: Match, s: number, e: number) => (x.start >= e ? x.start - e : s >= x.end ? s - x.end : 0);
  for (const x of a) {
    for (const y of b) {
      if (++tries > FRAME_TRIES) return null;
      if (!apart(x, y) || dist(y, x.start, x.end) > window) continue;
      const s = Math.min(x.start, y.start);
      const e = Math.max(x.end, y.end);
      for (const z of c) {
        if (++tries > FRAME_TRIES) return null;
        if (!apart(z, x) || !apart(z, y) || dist(z, s, e) > window) continue;
        const start = Math.min(s, z.start);
        const end = Math.max(e, z.end);
        if (accept && !accept(start, end)) continue;
        return { start, end, gap: { start: end, end: end } };
      }
    }
  }
  return null;
}

/** True if any word of the match sits between quotation marks. */
function isQuoted(ctx: Context, start: number, end: number): boolean {
  ctx.quoted ??= quotedTokens(ctx.text, ctx.tokens);
  return covers(ctx.quoted, 1, start, end);
}

/** Marks tokens that sit inside a pair of quotation marks in the original text. */
function quotedTokens(text: string, tokens: Token[]): Uint8Array {
  const out = new Uint8Array(tokens.length);
  let open = false;
  let t = 0;
  for (let i = 0; i < text.length && t < tokens.length; i++) {
    while (t < tokens.length && tokens[t]!.start <= i) {
      if (open) out[t] = 1;
      t++;
    }
    const c = text[i];
    if (c === '"' || c === '“' || c === '”' || c === '«' || c === '»') open = !open;
  }
  return out;
}

/**
 * Two or more different rules of one category on separate words ("so mature for your age" and
 * "our little secret") corroborate each other: the strongest of them gains one level.
 */
function corroborate(scored: Array<Scored>): void {
  const byCategory = new Map<Category, Array<Scored>>();
  for (const m of scored) {
    if (m.severity < 1) continue;
    let list = byCategory.get(m.category);
    if (!list) byCategory.set(m.category, (list = []));
    list.push(m);
  }
  for (const list of byCategory.values()) {
    if (list.length < 2) continue;
    let top = list[0]!;
    for (const m of list) if (m.severity > top.severity) top = m;
    const other = list.find((m) => m.ruleId !== top.ruleId && (m.end <= top.start || m.start >= top.end));
    if (!other || top.severity < 2 || top.severity >= (CATEGORY_CAP[top.category] ?? 5)) continue;
    top.severity = clampSeverity(top.severity + 1);
    top.why = top.why.replace(/ → \d$/, ` corroborated by ${other.ruleId} (+1) → ${top.severity}`);
    top.reason = { ...top.reason, adjustments: [...top.reason.adjustments, { name: 'corroborated', delta: 1 }], severity: top.severity, corroboratedBy: other.ruleId };
  }
}

type Scored = ScoredMatch & { why: string; reason: Reason };

/** Most matches reported for one text; the rest still count towards the result. */
const MAX_REPORTED = 100;

/**
 * Orders matches by severity, then category priority, then position — by bucketing (six
 * severities × eleven categories) rather than sorting, so a long screen text stays linear.
 */
function summarise(scored: Array<Scored>): ScoreResult {
  const buckets: Array<Array<Scored>> = [];
  let flaggedCount = 0;
  for (const m of scored) {
    if (m.severity === 0) continue;
    flaggedCount++;
    const key = (5 - m.severity) * CATEGORY_PRIORITY.length + CATEGORY_PRIORITY.indexOf(m.category);
    (buckets[key] ??= []).push(m);
  }
  if (flaggedCount === 0) {
    const explanation = scored.length ? `not flagged: ${scored.slice(0, 10).map((m) => m.why).join('; ')}` : 'no rule matched';
    return { category: null, severity: 0, matches: [], explanation, reasons: [] };
  }
  const inOrder: Array<Scored> = [];
  for (const b of buckets) if (b) for (const m of b) if (inOrder.length < MAX_REPORTED) inOrder.push(m);
  const top = inOrder[0]!;
  // The reported category's matches first, then the others, each group still in order.
  const ordered = [...inOrder.filter((m) => m.category === top.category), ...inOrder.filter((m) => m.category !== top.category)];
  return {
    category: top.category,
    severity: top.severity,
    matches: ordered.map(({ ruleId, category, severity, start, end }) => ({ ruleId, category, severity, start, end })),
    explanation: ordered.slice(0, 10).map((m) => m.why).join('; ') + (flaggedCount > 10 ? `; and ${flaggedCount - 10} more` : ''),
    reasons: ordered.slice(0, 10).map((m) => m.reason),
  };
}

/**
 * Words that say a text is about a concern rather than one (news, quoting someone to report
 * them, a lesson's "we learned about"): the model does not read them as the lexicon's rules do,
 * so its own report is lowered by 2 and it raises nothing.
 */
const LEARNED_DAMPENERS: Array<[ContextKind, string]> = [
  ['reporting', 'reporting'],
  ['quoting', 'quoted'],
  ['discussing', 'educational'],
];

/**
 * The learned signal beside the lexicon, where the lexicon said less than 4 (src/model: trained
 * on Haven's own phrasings with hard negatives beside every theme; it reads the first 200 words).
 * - Agreeing with the lexicon's category from `raise`: a 2 becomes 3; a 2 or 3 becomes 4 when
 *   the model is sure (`high`) and rates it severe (`severe`). Adjustment `learned`.
 * - On its own (the lexicon found nothing of that category at its level): its category at
 *   `lowSeverity` (1: logged for the weekly digest) from `threshold`, 3 from `high`, 4 when also
 *   severe — at most `aloneMax`.
 * Its match marks the words that carried it, so the evidence shows them; its reason and the
 * explanation string name them (words of the text: on the device only, never in the wire's
 * explanation, which takes ids, names and numbers) with its confidence.
 */
function learned(model: Model, tokens: readonly Token[], result: ScoreResult, options: ScoreOptions, present: number): ScoreResult {
  const guess = model.predict(tokens, Math.min(model.threshold, model.raise));
  if (!guess) return result;
  // The condition of a threat ("if you say anything to your teachers …") is not quoting or reporting.
  const threat = (present & KIND_BIT.threat_condition) !== 0;
  const cancelled = (kind: ContextKind) => threat && (kind === 'quoting' || kind === 'reporting');
  const dampers = LEARNED_DAMPENERS.filter(([kind]) => (present & KIND_BIT[kind]) !== 0 && !cancelled(kind)).map(([, name]) => name);
  const shift = AGE_SHIFT[options.ageBand ?? 'secondary'][guess.category] ?? 0;
  const cap = CATEGORY_CAP[guess.category] ?? 5;
  const confidence = Math.round(guess.probability * 100);
  const severe = guess.probability >= model.high && guess.severe >= model.severe;
  if (dampers.length) {
    if (result.category === guess.category) return result;
  } else if (result.category === guess.category && guess.probability >= model.raise && result.severity >= 2) {
    const target = Math.min(cap, severe ? 4 : 3);
    if (target <= result.severity) return result;
    const severity = target as Severity;
    const delta = severity - result.severity;
    const top = result.reasons[0];
    const reasons = top ? [{ ...top, adjustments: [...top.adjustments, { name: 'learned', delta }], severity }, ...result.reasons.slice(1)] : result.reasons;
    const matches = result.matches.map((m, i) => (i === 0 ? { ...m, severity } : m));
    return { ...result, severity, matches, reasons, explanation: `${result.explanation}; learned model agrees (${confidence}%${severe ? ', severe' : ''}) (+${delta}) → ${severity}` };
  }
  const base = (guess.probability >= model.high ? (severe ? 4 : 3) : guess.probability >= model.threshold ? model.lowSeverity : 0) as Severity;
  const damp = dampers.length ? -2 : 0;
  const severity = clampSeverity(Math.min(base + shift + damp, model.aloneMax, cap));
  if (severity <= result.severity) return result;
  const why = model.explain(tokens, guess);
  if (!why) return result;
  const adjustments: Adjustment[] = shift ? [{ name: `age_${options.ageBand}`, delta: shift }] : [];
  if (damp) adjustments.push({ name: dampers[0]!, delta: damp });
  const ruleId = `learned.${guess.category}`;
  const reason: Reason = { ruleId, category: guess.category, kind: 'learned', base, adjustments, severity, confidence, features: why.features };
  const match: ScoredMatch = { ruleId, category: guess.category, severity, start: why.start, end: why.end };
  return {
    category: guess.category,
    severity,
    matches: [match, ...result.matches],
    explanation: `${ruleId} (${base}) ${confidence}%${severe ? ' severe' : ''} [${why.features.join(', ')}]${shift ? ` age (${shift > 0 ? '+' : ''}${shift})` : ''}${damp ? ` ${dampers[0]} (${damp})` : ''} → ${severity}${result.severity ? `; ${result.explanation}` : ''}`,
    reasons: [reason, ...result.reasons].slice(0, 10),
  };
}

let shared: Scorer | null = null;

/** The scorer with the lexicon and learned model that ship with the package, loaded on first use. */
export function defaultScorer(): Scorer {
  if (!shared) shared = new Scorer(compileLexicon(), Model.shipped());
  return shared;
}

/** Scores one phrase, title or screen text with the shipped lexicon. Pure: no I/O after the first call. */
export function score(text: string, options: ScoreOptions): ScoreResult {
  return defaultScorer().score(text, options);
}
