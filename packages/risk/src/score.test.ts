import { compileLexicon } from './lexicon/compile';
import type { CategoryFile, LexiconSource, SourcePair, SourceTerm } from './lexicon/source';
import { Scorer, type ScoreOptions } from './score';

/** One English category file of the test lexicon. */
const category = (name: CategoryFile['category'], terms: SourceTerm[], pairs: SourcePair[] = []): CategoryFile => ({
  file: `${name}.en.yaml`,
  category: name,
  language: 'en',
  terms,
  pairs,
});

/** A small lexicon written for these tests, so they pin rule semantics, not the shipped data. */
const source: LexiconSource = {
  categories: [
    category(
      'suicide',
      [
        { text: 'kill myself', severity: 4, flags: [] },
        { text: '{want,wanna} to die', severity: 3, flags: [] },
        { text: 'noose', severity: 3, flags: ['method'] },
        { text: 'wont be here tomorrow', severity: 2, flags: [] },
      ],
      [{ id: 'bleach-drink', a: ['bleach'], b: ['drink', 'swallow'], window: 3, severity: 4, flags: ['method'] }],
    ),
    category('bullying', [
      { text: 'kys', severity: 4, flags: ['direct'] },
      { text: 'loser', severity: 2, flags: [] },
    ]),
    category('gambling', [{ text: 'bet365', severity: 4, flags: [] }]),
    category('drugs', [{ text: 'buy weed', severity: 2, flags: [] }]),
    category('violence', [{ text: 'kill you', severity: 3, flags: ['direct'] }]),
    category(
      'discrimination',
      [{ text: 'slurword', severity: 3, flags: [] }],
      [{ id: 'hate-group', a: ['hate', 'despise'], b: ['{women,immigrants}'], window: 3, severity: 3, flags: [] }],
    ),
    category('cse', [{ text: 'send nudes', severity: 4, flags: ['strong'] }]),
    category('pornography', [{ text: 'pornhub', severity: 2, flags: [] }]),
  ],
  contexts: [
    {
      file: 'context.en.yaml',
      language: 'en',
      words: {
        first_person: ['i', 'im', 'me', 'my'],
        second_person: ['you'],
        intent: ['going to', 'gonna'],
        time: ['tonight'],
        farewell: ['goodbye'],
        negation: ['dont', 'not', 'never', 'wont'],
        third_person: ['he', 'she'],
        reporting: ['news'],
        quoting: ['saying', 'report'],
        help_seeking: ['childline'],
        educational_titles: ['essay', 'bitesize', 'teacher', 'lesson'],
        allow: ['kill the process', 'killer whale'],
        self_reference: ['im a', 'my'],
        play: ['next round'],
        joking: ['lol'],
        searching: ['how to'],
        threat_condition: ['if you tell', 'if you report', 'report me and', 'tell a teacher and'],
        discussing: ['argued that', 'learned about', 'my essay on'],
      },
    },
  ],
};

const scorer = new Scorer(compileLexicon(source));
const keys: ScoreOptions = { source: 'keys' };
const sev = (text: string, o: ScoreOptions = keys) => scorer.score(text, o).severity;

describe('score', () => {
  it('reports nothing for text with no rule', () => {
    expect(scorer.score('see you at football practice', keys)).toEqual({ category: null, severity: 0, matches: [], explanation: 'no rule matched', reasons: [] });
  });

  it('reports the category, base severity, rule and where it matched', () => {
    const text = 'honestly i kill myself laughing';
    const r = scorer.score(text, keys);
    expect(r.category).toBe('suicide');
    expect(r.severity).toBe(4);
    expect(r.matches[0]!.ruleId).toBe('suicide.en.kill_myself');
    expect(text.slice(r.matches[0]!.start, r.matches[0]!.end)).toBe('kill myself');
    expect(r.explanation).toContain('suicide.en.kill_myself (4)');
  });

  it('matches through evasions: leetspeak, split letters, joined words, repeats, homoglyphs', () => {
    for (const text of ['k1ll mys3lf', 'k i l l m y s e l f', '#killmyself', 'kiiiiill myself', 'kіll myѕelf']) {
      expect(sev(text)).toBeGreaterThanOrEqual(4);
    }
  });

  it('separates a pronoun run into a lexicon word, and nothing else', () => {
    expect(sev('ihate women')).toBe(3);
    expect(sev('I h a t e women')).toBe(3);
    expect(sev('women are a s l u r w o r d')).toBe(3); // "aslurword": the article parted
    expect(sev('ikill myself')).toBeGreaterThanOrEqual(4);
    expect(scorer.score('thehate women', keys).category).toBeNull(); // "the" is not a run-on prefix
  });

  it('separates two lexicon words run together, only when both halves are lexicon words', () => {
    expect(sev('despisewomen')).toBe(3);
    expect(sev('hatewomen')).toBe(3);
    expect(scorer.score('hatefulwomen', keys).category).toBeNull();
  });

  it('reads one typo in the longer words of a phrase, not in short ones', () => {
    expect(sev('kill mysefl')).toBe(4); // swapped letters
    expect(sev('kill myslf')).toBe(4); // a missing letter
    // Four letters in a phrase: no typo reading on its own, only beside the phrase's next word.
    expect(scorer.score('klil', keys).category).toBeNull();
    expect(scorer.score('klil you', keys).category).toBe('violence');
  });

  it('expands alternatives in terms', () => {
    expect(sev('i wanna to die')).toBeGreaterThanOrEqual(3);
  });

  it('boosts for time, farewell and intent, at most +2', () => {
    expect(sev('kill myself tonight')).toBe(5);
    expect(sev('i want to die')).toBe(3);
    expect(sev('i want to die tonight')).toBe(4);
    expect(sev('im going to kill myself tonight goodbye')).toBe(5);
    expect(scorer.score('i want to die tonight goodbye', keys).explanation).toMatch(/time \(\+1\).*farewell \(\+1\)/);
  });

  it('lowers for negation just before the match', () => {
    expect(sev('i dont want to die')).toBe(0);
    expect(sev('i dont know why but i want to die')).toBe(3); // too far away to negate
    expect(sev('i want to die not joking')).toBe(3); // after the match it does not deny it
    expect(sev('u ok? no i want to die')).toBe(3); // "no" answering a question does not deny
    expect(sev('u ok? no i kill myself')).toBe(sev('i kill myself')); // also when the match starts after the pronoun
  });

  it('reaches a negation across auxiliaries and adverbs, and a denied plan is no intent', () => {
    expect(sev('i am not going to kill myself')).toBe(1); // was 4 + intent ("going to") = 5
    expect(sev('im never gonna kill myself')).toBe(1);
    expect(sev('i wont ever actually kill myself')).toBe(1);
    expect(sev('im not gonna lie i kill myself')).toBe(4); // the denial governs "lie", not the disclosure
    expect(sev('never mind, im going to kill myself')).toBe(5); // a pronoun stops the reach
  });

  it('reads a negated absence as a statement, not a denial', () => {
    expect(sev('im not going to be here tomorrow')).toBe(2); // "not going to" is "wont"
    expect(sev('honestly im not gonna be here tomorrow')).toBe(2);
    expect(sev("don't be such a loser")).toBe(2); // an imperative at the reader stays an insult
  });

  it('lowers for third person and for news', () => {
    expect(sev('she said she want to die')).toBe(2);
    expect(sev('news: many want to die')).toBe(2);
  });

  it('drops matches inside an allow-phrase', () => {
    expect(scorer.score('how to kill the process in linux', keys).category).toBeNull();
  });

  it('lowers in an educational window title, except strong terms', () => {
    const essay: ScoreOptions = { source: 'keys', title: 'Romeo essay - Word' };
    expect(sev('juliet wanted to die', essay)).toBe(1); // "wanted" reads as "want" (3), an essay lowers it by 2
    expect(sev('send nudes', essay)).toBe(4);
    expect(sev('wanna to die - BBC Bitesize', { source: 'title' })).toBe(1);
  });

  it('finds co-occurring words within the window, either order, not beyond', () => {
    expect(scorer.score('gonna drink the bleach', keys).category).toBe('suicide');
    expect(sev('bleach i will drink')).toBeGreaterThanOrEqual(4);
    expect(sev('bleach the white shirts then drink some squash')).toBe(0);
    expect(sev('bleach i will not drink')).toBe(sev('bleach i will drink') - 3); // negated between the parts
  });

  it('treats quoted hate and counter-speech as lower', () => {
    expect(sev('i hate women')).toBe(3);
    expect(sev('saying "i hate women" is wrong')).toBe(0);
    expect(sev('he keeps saying i hate women')).toBe(0); // the condemnation governs the words: −3
    expect(sev('saying so was a mistake because honestly i hate women')).toBe(1); // further away: −2
  });

  it('reads reporting and a teacher as the condition of a threat, not as counter-speech or a lesson', () => {
    expect(sev('tell a teacher and ill kill you')).toBe(3); // was: a teacher anywhere, educational −2
    expect(sev('if you tell the teacher ill kill you')).toBe(3);
    expect(sev('go cry to the teacher you loser')).toBe(2); // the teacher told, not the lesson
    expect(sev('report me and you are a loser')).toBe(2); // was: "report" near, counter-speech −3
    expect(sev('if you report me loser')).toBe(2);
    // Where the school word or the reporting verb governs the concern, they still lower.
    expect(sev('in the lesson the teacher explained why loser hurts')).toBe(0);
    expect(sev('how to report people who say loser')).toBe(0);
  });

  it('treats a slur used of oneself as reclaimed, not as an attack', () => {
    expect(sev('you are a slurword')).toBe(3);
    expect(sev('im a slurword and proud')).toBe(1);
    expect(sev('love you my slurword')).toBe(1);
  });

  it('lowers violence and suicide words in game or joke context', () => {
    expect(sev('gonna kill myself next round')).toBe(sev('gonna kill myself') - 2);
    expect(sev('kill you next round')).toBe(0); // a game settles a threat: −3
    expect(sev('kill you lol')).toBe(1); // a joke marker: −2
    expect(sev('i want to die lol')).toBe(1);
    expect(sev('send nudes lol')).toBe(4); // not a playful category
  });

  it('reads laughter written out in any language as a joke marker', () => {
    for (const laugh of ['hahaha', 'jajaja', 'kkkkk', 'hehehe', 'lmaooo', 'xddd', '😂']) expect(sev(`i want to die ${laugh}`)).toBe(1);
    expect(sev('i want to die jihad')).toBe(3); // a word that merely starts like laughter
  });

  it('reads a topic argued, studied or written about as schoolwork, even in the first person', () => {
    expect(sev('i buy weed')).toBe(3);
    expect(sev('i argued that people buy weed')).toBe(0); // was: own involvement (+1) → 3
    expect(sev('in my essay on why people want to die')).toBe(1);
    expect(sev('people buy weed, i argued that')).toBe(3); // after the match it governs nothing
  });

  it('does not raise a news report for its time', () => {
    expect(sev('news: many want to die tonight')).toBe(2); // was: time (+1), news (−1) → 3
  });

  it('raises own involvement in drugs and a named means, for first person and for a search', () => {
    expect(sev('buy weed')).toBe(2);
    expect(sev('i buy weed')).toBe(3);
    expect(sev('how to buy weed')).toBe(3);
    expect(sev('noose')).toBe(3);
    expect(sev('my noose')).toBe(4);
    expect(sev('how to tie a noose')).toBe(4);
  });

  it('stops gambling, drugs and pornography at severe: critical is for life or illegal content', () => {
    expect(sev('bet365')).toBe(4);
    expect(sev('i bet365 tonight')).toBe(4); // own involvement would make 5
    expect(scorer.score('i bet365', keys).explanation).toMatch(/at most 4 for gambling/);
  });

  it("reads a screen's first line as its window header: a lesson lowers even strong terms", () => {
    expect(sev('Essay plan: online safety\nwhat to do if someone asks you to send nudes', { source: 'screen' })).toBe(2);
    expect(sev('Snapchat\nsend nudes', { source: 'screen' })).toBe(4);
    expect(sev('Essay plan\ni need you to send nudes', { source: 'screen' })).toBe(4); // the writer's own voice
  });

  it('lowers suicide matches for help-seeking without first person', () => {
    expect(sev('childline: wanna to die')).toBe(1);
    expect(sev('childline: how to cope when you wanna to die')).toBe(1); // a search is not a disclosure
    expect(sev('childline i want to die')).toBe(3);
  });

  it('shifts by age band', () => {
    expect(sev('pornhub', { source: 'title', ageBand: 'primary' })).toBe(3);
    expect(sev('pornhub', { source: 'title', ageBand: 'secondary' })).toBe(2);
  });

  it('reports the strongest category first, ties by priority', () => {
    const r = scorer.score('kys and i want to die', keys);
    expect(r.category).toBe('bullying');
    expect(r.matches.map((m) => m.category)).toEqual(['bullying', 'suicide']);
  });
});

describe('long texts', () => {
  it('scores a whole screen in windows and keeps offsets into the full text', () => {
    const filler = 'the quick brown fox jumps over the lazy dog and nothing happens here at all. '.repeat(400); // ~31 KB
    const text = filler + 'later that night she wrote: i want to die tonight. ' + filler;
    const r = scorer.score(text, { source: 'screen' });
    expect(r.category).toBe('suicide');
    expect(r.severity).toBe(4);
    const m = r.matches[0]!;
    expect(text.slice(m.start, m.end)).toBe('want to die');
  });

  it('finds a phrase that straddles a window boundary', () => {
    for (const pad of [8180, 8185, 8190, 7700, 7690]) {
      const text = 'x'.repeat(pad) + ' i kill myself ' + 'y '.repeat(5000);
      const r = scorer.score(text, { source: 'screen' });
      expect(r.category).toBe('suicide');
      expect(text.slice(r.matches[0]!.start, r.matches[0]!.end)).toBe('kill myself');
    }
  });
});

describe('phrases with many alternatives', () => {
  const many: LexiconSource = {
    categories: [
      {
        file: 'self_harm.en.yaml',
        category: 'self_harm',
        language: 'en',
        terms: [
          {
            text: '{hide,hiding,hid,cover,covering} {my,the} {cuts,scars,marks,burns} {from,for} {pe,my mum,my dad,school,everyone,my parents}',
            severity: 4,
            flags: [],
          },
          { text: '{punch,punching,kick,kicking,smash} {walls,the wall,doors,the door} {when,cos,because} {,im,i am} {angry,upset,sad}', severity: 3, flags: [] },
        ],
        pairs: [],
      },
    ],
    contexts: [],
  };
  const slotted = new Scorer(compileLexicon(many));

  it('matches any combination without expanding them all', () => {
    expect(slotted.lexicon.slotted.length).toBe(2);
    expect(slotted.lexicon.stateCount).toBeLessThan(100);
    const r = slotted.score('tbh im hiding the scars from my parents again', { source: 'keys' });
    expect(r).toMatchObject({ category: 'self_harm', severity: 4 });
    expect('tbh im hiding the scars from my parents again'.slice(r.matches[0]!.start, r.matches[0]!.end)).toBe('hiding the scars from my parents');
    expect(slotted.score('cover the marks for pe', { source: 'keys' }).severity).toBe(4);
  });

  it('needs every slot, in order, end to end', () => {
    expect(slotted.score('hiding the scars', { source: 'keys' }).severity).toBe(0);
    expect(slotted.score('hiding the old scars from pe', { source: 'keys' }).severity).toBe(0);
    expect(slotted.score('the scars hiding from pe', { source: 'keys' }).severity).toBe(0);
  });

  it('honours optional words inside a slot', () => {
    expect(slotted.score('punching walls when angry', { source: 'keys' }).severity).toBe(3);
    expect(slotted.score('punching walls cos im angry', { source: 'keys' }).severity).toBe(3);
  });
});
