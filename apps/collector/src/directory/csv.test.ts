import { parseCsv, type CsvRow } from './csv';

function rows(text: string): CsvRow[] {
  const result = parseCsv(text);
  if (!result.ok) throw new Error(result.message);
  return result.rows;
}

describe('parseCsv', () => {
  it('reads plain fields with their line numbers, the header being line 1', () => {
    expect(rows('a,b,c\n1,2,3\n4,5,6')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', '2', '3'] },
      { line: 3, fields: ['4', '5', '6'] },
    ]);
  });

  it('takes CRLF, LF and a lone CR alike', () => {
    expect(rows('a,b\r\n1,2\n3,4\r5,6\r\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
      { line: 3, fields: ['3', '4'] },
      { line: 4, fields: ['5', '6'] },
    ]);
  });

  it('drops a UTF-8 byte order mark', () => {
    expect(rows('\uFEFFupn,name\r\nA,B\r\n')).toEqual([
      { line: 1, fields: ['upn', 'name'] },
      { line: 2, fields: ['A', 'B'] },
    ]);
  });

  it('makes no record of a trailing empty line, or a blank line in between, but counts its line', () => {
    expect(rows('a\n\n1\n\n')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 3, fields: ['1'] },
    ]);
    expect(rows('')).toEqual([]);
    expect(rows('\r\n')).toEqual([]);
  });

  it('reads quoted fields: commas, "" escapes and line breaks inside, the record on the line it starts', () => {
    const parsed = rows('name,note,n\r\n"Smith, Jr","He said ""hi""\r\nthen left",1\r\n"","",2\r\nlast,"x\ny\nz",3\n');
    expect(parsed).toEqual([
      { line: 1, fields: ['name', 'note', 'n'] },
      { line: 2, fields: ['Smith, Jr', 'He said "hi"\r\nthen left', '1'] },
      { line: 4, fields: ['', '', '2'] },
      { line: 5, fields: ['last', 'x\ny\nz', '3'] },
    ]);
  });

  it('keeps empty fields, at the end of a line too', () => {
    expect(rows('a,,c,\n,,,')).toEqual([
      { line: 1, fields: ['a', '', 'c', ''] },
      { line: 2, fields: ['', '', '', ''] },
    ]);
  });

  it('keeps a quote inside an unquoted field as it is', () => {
    expect(rows('O"Neil,x')).toEqual([{ line: 1, fields: ['O"Neil', 'x'] }]);
  });

  it('names the line of a quote left open', () => {
    expect(parseCsv('a,b\n1,2\n3,"open\n4,5\n')).toEqual({ ok: false, line: 3, message: expect.stringMatching(/^Line 3: a quoted field is not closed/) });
  });

  it('names the line of text after a closing quote', () => {
    const result = parseCsv('a,b\n"x\ny"z,1\n');
    expect(result).toEqual({ ok: false, line: 3, message: expect.stringMatching(/^Line 3: unexpected text after a closing quote/) });
  });

  it('reads a large file quickly', () => {
    const line = 'A123456789012,Alex,Smith,7,7A,alex.smith,pupil,N,N\r\n';
    const text = `upn,forename,surname,year group,class,os username,role,send,looked after\r\n${line.repeat(20_000)}`;
    const started = Date.now();
    const parsed = rows(text);
    expect(parsed).toHaveLength(20_001);
    expect(parsed.at(-1)).toEqual({ line: 20_001, fields: line.trim().split(',') });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
