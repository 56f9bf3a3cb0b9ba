import { normaliseYearGroup, validateDirectory, type DirectoryProblem, type DirectoryRow } from './import';

const HEADER = 'UPN,Admission Number,Forename,Surname,Year Group,Class,OS Username,Role,SEND,Looked After';

function valid(text: string): DirectoryRow[] {
  const result = validateDirectory(text);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.rows;
}

function problems(text: string): DirectoryProblem[] {
  const result = validateDirectory(text);
  if (result.ok) throw new Error('expected problems');
  return result.errors;
}

describe('validateDirectory', () => {
  it('reads a header in any order, case, spacing, underscores or hyphens, and ignores other columns', () => {
    const rows = valid('role,os_username,CLASS,year-group,SURNAME,forename,Notes,upn\nPupil,Alex.Smith,7A,Year 7,Smith,Alex,anything,a12345678901b\n');
    expect(rows).toEqual([
      {
        line: 2,
        externalId: 'A12345678901B',
        osUsername: 'alex.smith',
        forename: 'Alex',
        surname: 'Smith',
        kind: 'pupil',
        yearGroup: '7',
        className: '7A',
        send: null,
        lookedAfter: null,
      },
    ]);
  });

  it('keys on the UPN when given, else the admission number; staff may leave year group and class empty', () => {
    const rows = valid(`${HEADER}\n,00123,Sam,Teacher,,,s.teacher,STAFF,,\nA123456789012,00124,Kim,Pupil,R,Owls,k.pupil,pupil,y,No\n`);
    expect(rows.map((r) => [r.externalId, r.kind, r.yearGroup, r.className, r.send, r.lookedAfter])).toEqual([
      ['00123', 'staff', null, null, false, false],
      ['A123456789012', 'pupil', 'Reception', 'Owls', true, false],
    ]);
  });

  it.each([
    ['Nursery', 'Nursery'],
    ['n', 'Nursery'],
    ['Reception', 'Reception'],
    ['R', 'Reception'],
    ['YR', 'Reception'],
    ['1', '1'],
    ['07', '7'],
    ['Year 13', '13'],
    ['Y10', '10'],
    ['yr 4', '4'],
    ['0', null],
    ['14', null],
    ['Year', null],
    ['seven', null],
  ])('normalises the year group %s to %s', (given, expected) => {
    expect(normaliseYearGroup(given)).toBe(expected);
  });

  it('reports every problem of a row with its line and column, quoting only that row', () => {
    const text = [
      HEADER,
      'A123456789012,,Alex,Smith,7,7A,alex.smith,pupil,,',
      'B12345,,Bo,Jones,Year 14,,bo jones,teacher,maybe,2',
      ',,,,,,,,,',
    ].join('\r\n');
    const found = problems(text);
    expect(found.filter((p) => p.line === 2)).toEqual([]);
    expect(found.filter((p) => p.line === 3).map((p) => p.column)).toEqual(['UPN', 'role', 'os username', 'SEND', 'looked after']);
    expect(found.find((p) => p.column === 'role')!.message).toBe('Line 3: role must be pupil or staff (found "teacher").');
    expect(found.filter((p) => p.line === 4).map((p) => p.column)).toEqual(['UPN', 'forename', 'surname', 'role', 'os username']);
    expect(found.every((p) => !p.message.includes('Alex') && !p.message.includes('Smith'))).toBe(true);
  });

  it('needs a year group and a class for a pupil, and checks the year group', () => {
    const found = problems(`${HEADER}\nA123456789012,,Al,Lee,,7A,al.lee,pupil,,\nA123456789013,,Bo,Lee,Year 15,,bo.lee,pupil,,\n`);
    expect(found.map((p) => [p.line, p.column])).toEqual([
      [2, 'year group'],
      [3, 'year group'],
      [3, 'class'],
    ]);
  });

  it('flags every line of a duplicate UPN, admission number or os username', () => {
    const text = [
      HEADER,
      'A123456789012,,A,One,7,7A,one,pupil,,',
      'A123456789012,,B,Two,7,7A,two,pupil,,',
      ',555,C,Three,7,7A,three,pupil,,',
      ',555,D,Four,7,7A,four,pupil,,',
      'A123456789014,,E,Five,7,7A,ONE,pupil,,',
    ].join('\n');
    const found = problems(text);
    expect(found.map((p) => [p.line, p.column])).toEqual([
      [2, 'UPN'],
      [2, 'os username'],
      [3, 'UPN'],
      [4, 'admission number'],
      [5, 'admission number'],
      [6, 'os username'],
    ]);
    expect(found[0]!.message).toBe('Line 2: the same UPN is on more than one line (lines 2, 3).');
  });

  it('names a missing column, and needs a UPN or an admission number column', () => {
    expect(problems('upn,forename,surname,class,os username,role\n')).toEqual([
      { line: 1, column: 'year group', message: 'Line 1: the header has no "year group" column.' },
    ]);
    expect(problems('forename,surname,year group,class,os username,role\n')[0]).toMatchObject({ line: 1, column: 'UPN' });
  });

  it('refuses an empty file, a header without people, a line with too few fields and names that are too long', () => {
    expect(problems('')[0]!.message).toMatch(/empty/);
    expect(problems(`${HEADER}\n`)[0]!.message).toMatch(/no people/);
    expect(problems(`${HEADER}\nA123456789012,,Al,Lee\n`)).toEqual([{ line: 2, message: 'Line 2: expected 10 fields, found 4 (is a comma or a quote missing?).' }]);
    expect(problems(`${HEADER}\nA123456789012,,${'x'.repeat(101)},Lee,7,7A,al,pupil,,\n`)[0]).toMatchObject({ line: 2, column: 'forename' });
    expect(valid(`${HEADER}\nA123456789012,,Al,Lee,7,7A,al,pupil,,,,\n`)).toHaveLength(1);
  });

  it('refuses more than 20,000 people', () => {
    const line = (i: number) => `,${i},A,B,7,7A,u${i},pupil,,\n`;
    const text = HEADER + '\n' + Array.from({ length: 20_001 }, (_, i) => line(i)).join('');
    expect(problems(text)).toEqual([{ line: 20_002, message: 'Line 20002: the file has 20,001 people; at most 20,000 can be imported at once.' }]);
  });
});
