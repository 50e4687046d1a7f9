// Splits a breakpoint condition or Debug Console expression into tokens (numbers, names, strings, operators), with their column for error messages.

export type TokenKind = 'number' | 'name' | 'string' | 'op' | 'end';

export interface Token {
  kind: TokenKind;
  /** The token's text; for strings, the unquoted value; for numbers, the literal as written. */
  text: string;
  /** 0-based offset of the token in the source text. */
  pos: number;
}

export class ExpressionError extends Error {
  constructor(message: string, readonly pos?: number) {
    super(message);
  }
}

/** Longest first, so that `<=` wins over `<`. `===`/`!==` are accepted as JavaScript habits and mean `==`/`!=`. */
const OPERATORS = ['===', '!==', '==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '!', '(', ')', '[', ']', '.', ','];

const isDigit = (c: string) => c >= '0' && c <= '9';
const isNameStart = (c: string) => /[A-Za-z_$]/.test(c);
const isNamePart = (c: string) => /[A-Za-z0-9_$]/.test(c);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) { i++; continue; }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      const match = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(i));
      const text = match![0];
      i += text.length;
      if (isNamePart(source[i] ?? '')) throw new ExpressionError(`Unexpected "${source[i]}" after the number ${text}`, i);
      tokens.push({ kind: 'number', text, pos: start });
      continue;
    }
    if (isNameStart(c)) {
      while (i < source.length && isNamePart(source[i])) i++;
      tokens.push({ kind: 'name', text: source.slice(start, i), pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      let value = '';
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\' && i + 1 < source.length) i++;
        value += source[i++];
      }
      if (i >= source.length) throw new ExpressionError(`Text starting at column ${start + 1} has no closing ${c}`, start);
      i++;
      tokens.push({ kind: 'string', text: value, pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      i += op.length;
      tokens.push({ kind: 'op', text: op === '===' ? '==' : op === '!==' ? '!=' : op, pos: start });
      continue;
    }
    if (c === '=') throw new ExpressionError('A single "=" assigns; use "==" to compare', i);
    if (c === '&' || c === '|') throw new ExpressionError(`Use "${c}${c}" for "${c === '&' ? 'and' : 'or'}"`, i);
    throw new ExpressionError(`Unexpected character "${c}" at column ${i + 1}`, i);
  }
  tokens.push({ kind: 'end', text: '', pos: source.length });
  return tokens;
}
