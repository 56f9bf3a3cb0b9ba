export { compileLexicon, CompiledLexicon, type Rule } from './lexicon/compile';
export { readLexicon, LexiconError, DEFAULT_LEXICON_DIR, type LexiconSource } from './lexicon/source';
export { normalisePhrase, tokenize, type Token } from './normalise';
export { defaultScorer, score, Scorer, type Adjustment, type AgeBand, type Reason, type ScoredMatch, type ScoreOptions, type ScoreResult, type Source } from './score';
export * from './taxonomy';
