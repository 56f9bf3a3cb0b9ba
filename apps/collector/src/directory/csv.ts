/** A record of a CSV file and the 1-based line it starts on (a quoted field may span lines). */
export type CsvRow = { line: number; fields: string[] };

export type CsvResult = { ok: true; rows: CsvRow[] } | { ok: false; line: number; message: string };

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Parses CSV as RFC 4180 describes it, and as spreadsheets and MIS exports write it: fields
 * in double quotes may hold commas, line breaks and `""` for a quote; lines end in CRLF or
 * LF (a lone CR too); a UTF-8 byte order mark is dropped. A blank line (the trailing one too,
 * or one holding only `""`) makes no record. A quote inside an unquoted field is taken literally (O"Neil); text
 * after a closing quote, or a quote left open at the end, is an error naming the line.
 * Field values are returned as written: trimming is the caller's choice.
 */
export function parseCsv(input: string): CsvResult {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const rows: CsvRow[] = [];
  const n = text.length;
  let line = 1;
  let i = 0;

  while (i < n) {
    const start = line;
    const fields: string[] = [];
    // One record: fields separated by commas, up to an unquoted line break or the end.
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        i++;
        let chunk = i;
        let parts = '';
        for (;;) {
          if (i >= n) return { ok: false, line: start, message: `Line ${start}: a quoted field is not closed (a " is missing).` };
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) {
              parts += text.slice(chunk, i + 1);
              i += 2;
              chunk = i;
              continue;
            }
            parts += text.slice(chunk, i);
            i++;
            break;
          }
          if (c === LF) line++;
          else if (c === CR && text.charCodeAt(i + 1) !== LF) line++;
          i++;
        }
        value = parts;
        const next = text.charCodeAt(i);
        if (i < n && next !== COMMA && next !== LF && next !== CR) {
          return { ok: false, line, message: `Line ${line}: unexpected text after a closing quote (put the whole field in quotes and write "" for a quote).` };
        }
      } else {
        const from = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === COMMA || c === LF || c === CR) break;
          i++;
        }
        value = text.slice(from, i);
      }
      fields.push(value);
      if (i < n && text.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      break;
    }
    // The record ends at a line break (CRLF, LF or CR) or at the end of the text.
    if (i < n) {
      if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2;
      else i++;
      line++;
    }
    if (fields.length === 1 && fields[0] === '') continue; // a blank line
    rows.push({ line: start, fields });
  }
  return { ok: true, rows };
}
