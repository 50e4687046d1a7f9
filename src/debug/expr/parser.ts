// Parses the expression language of breakpoint conditions and the Debug Console into a syntax tree (Pratt parser; no eval).
import { ExpressionError, tokenize, type Token } from './lexer';

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

export type Expr =
  | { kind: 'literal'; value: number | string | boolean | null }
  | { kind: 'name'; name: string; pos: number }
  | { kind: 'member'; object: Expr; name: string; pos: number }
  | { kind: 'index'; object: Expr; index: Expr; pos: number }
  | { kind: 'call'; callee: string; args: Expr[]; pos: number }
  | { kind: 'unary'; op: '-' | '!'; operand: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

/** Binding power of each infix operator; higher binds tighter. `and`/`or` are spelled-out aliases. */
const INFIX: Record<string, { op: BinaryOp; power: number }> = {
  '||': { op: '||', power: 1 }, or: { op: '||', power: 1 },
  '&&': { op: '&&', power: 2 }, and: { op: '&&', power: 2 },
  '==': { op: '==', power: 3 }, '!=': { op: '!=', power: 3 },
  '<': { op: '<', power: 4 }, '<=': { op: '<=', power: 4 }, '>': { op: '>', power: 4 }, '>=': { op: '>=', power: 4 },
  '+': { op: '+', power: 5 }, '-': { op: '-', power: 5 },
  '*': { op: '*', power: 6 }, '/': { op: '/', power: 6 }, '%': { op: '%', power: 6 },
};
const PREFIX_POWER = 7;

const KEYWORDS: Record<string, number | boolean | null> = { true: true, false: false, null: null, NaN: NaN, Infinity: Infinity };

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token { return this.tokens[this.index]; }
  private next(): Token { return this.tokens[this.index++]; }

  private expectOp(text: string, what: string): Token {
    const token = this.next();
    if (token.kind !== 'op' || token.text !== text) throw new ExpressionError(`Expected "${text}" ${what}, found ${describe(token)}`, token.pos);
    return token;
  }

  parseAll(): Expr {
    if (this.peek().kind === 'end') throw new ExpressionError('The expression is empty', 0);
    const expr = this.parse(0);
    const rest = this.peek();
    if (rest.kind !== 'end') throw new ExpressionError(`Unexpected ${describe(rest)} at column ${rest.pos + 1}`, rest.pos);
    return expr;
  }

  parse(minPower: number): Expr {
    let left = this.prefix();
    for (;;) {
      const token = this.peek();
      const infix = (token.kind === 'op' || token.kind === 'name') ? INFIX[token.text] : undefined;
      if (!infix || infix.power <= minPower) return left;
      this.next();
      const right = this.parse(infix.power);
      left = { kind: 'binary', op: infix.op, left, right };
    }
  }

  private prefix(): Expr {
    const token = this.next();
    let expr: Expr;
    if (token.kind === 'number') expr = { kind: 'literal', value: Number(token.text) };
    else if (token.kind === 'string') expr = { kind: 'literal', value: token.text };
    else if (token.kind === 'op' && (token.text === '-' || token.text === '!')) {
      return { kind: 'unary', op: token.text, operand: this.parse(PREFIX_POWER) };
    } else if (token.kind === 'name' && token.text === 'not') {
      // `not` reads like Python's: `not a == b` negates the comparison, `not a and b` only `a`.
      return { kind: 'unary', op: '!', operand: this.parse(INFIX.and.power) };
    } else if (token.kind === 'op' && token.text === '(') {
      expr = this.parse(0);
      this.expectOp(')', 'to close "("');
    } else if (token.kind === 'name') {
      if (token.text in KEYWORDS) expr = { kind: 'literal', value: KEYWORDS[token.text] };
      else if (this.peek().kind === 'op' && this.peek().text === '(') expr = this.call(token);
      else expr = { kind: 'name', name: token.text, pos: token.pos };
    } else {
      throw new ExpressionError(token.kind === 'end' ? 'The expression ends too early' : `Unexpected ${describe(token)} at column ${token.pos + 1}`, token.pos);
    }
    return this.postfix(expr);
  }

  private call(name: Token): Expr {
    this.next();
    const args: Expr[] = [];
    if (!(this.peek().kind === 'op' && this.peek().text === ')')) {
      for (;;) {
        args.push(this.parse(0));
        if (this.peek().kind === 'op' && this.peek().text === ',') { this.next(); continue; }
        break;
      }
    }
    this.expectOp(')', `to close the call of ${name.text}(`);
    return { kind: 'call', callee: name.text, args, pos: name.pos };
  }

  private postfix(expr: Expr): Expr {
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'op') return expr;
      if (token.text === '.') {
        this.next();
        const name = this.next();
        if (name.kind !== 'name' && name.kind !== 'number') throw new ExpressionError(`Expected a name after ".", found ${describe(name)}`, name.pos);
        expr = { kind: 'member', object: expr, name: name.text, pos: name.pos };
      } else if (token.text === '[') {
        this.next();
        const index = this.parse(0);
        this.expectOp(']', 'to close "["');
        expr = { kind: 'index', object: expr, index, pos: token.pos };
      } else {
        return expr;
      }
    }
  }
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end of the expression';
  if (token.kind === 'string') return `the text "${token.text}"`;
  return `"${token.text}"`;
}

/** Parses one expression; throws ExpressionError (with the column) when it is not valid. */
export function parseExpression(source: string): Expr {
  return new Parser(tokenize(source)).parseAll();
}
