// Evaluates a parsed expression against the numbers of a paused epoch (a tree of named values); pure, no eval.
import { ExpressionError } from './lexer';
import type { BinaryOp, Expr } from './parser';

/** A value that exists in the language but has no number yet (e.g. `miou` before the first epoch ended). */
export class Unavailable {
  constructor(readonly why: string) {}
}

/** Thrown when an expression needs a value that does not exist yet; a breakpoint condition is then simply false. */
export class NotYetError extends ExpressionError {}

export type Value = number | string | boolean | null | ValueTree;
export interface ValueTree { readonly [key: string]: Value | Unavailable }

export function isTree(value: unknown): value is ValueTree {
  return typeof value === 'object' && value !== null && !(value instanceof Unavailable);
}

type MathFunction = (...args: number[]) => number | boolean;
const FUNCTIONS: Record<string, { arity: [number, number]; fn: MathFunction }> = {
  abs: { arity: [1, 1], fn: Math.abs },
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  log: { arity: [1, 1], fn: Math.log },
  log10: { arity: [1, 1], fn: Math.log10 },
  exp: { arity: [1, 1], fn: Math.exp },
  min: { arity: [1, Infinity], fn: Math.min },
  max: { arity: [1, Infinity], fn: Math.max },
  isnan: { arity: [1, 1], fn: (x) => Number.isNaN(x) },
  isfinite: { arity: [1, 1], fn: (x) => Number.isFinite(x) },
};
export const FUNCTION_NAMES = Object.keys(FUNCTIONS);

/** Finds `key` in a tree: exact spelling first, then ignoring case (`mIoU` = `miou`), so users need not remember capitals. */
export function lookup(tree: ValueTree, key: string): Value | Unavailable | undefined {
  if (Object.prototype.hasOwnProperty.call(tree, key)) return tree[key];
  const lower = key.toLowerCase();
  const matches = Object.keys(tree).filter((k) => k.toLowerCase() === lower);
  return matches.length === 1 ? tree[matches[0]] : undefined;
}

function knownKeys(tree: ValueTree): string {
  const keys = Object.keys(tree);
  const shown = keys.slice(0, 12).join(', ');
  return keys.length > 12 ? `${shown}, … (${keys.length} in all)` : shown || 'nothing';
}

function member(object: Value, key: string, where: string, pos: number): Value {
  if (!isTree(object)) throw new ExpressionError(`${where} is ${typeName(object)}, it has no "${key}"`, pos);
  const found = lookup(object, key);
  if (found === undefined) throw new ExpressionError(`${where} has no "${key}"; it has ${knownKeys(object)}`, pos);
  if (found instanceof Unavailable) throw new NotYetError(`${where}.${key} has no value yet: ${found.why}`, pos);
  return found;
}

export function typeName(value: Value): string {
  if (value === null) return 'null (no value)';
  if (isTree(value)) return 'a group of values';
  if (typeof value === 'string') return 'text';
  return `a ${typeof value}`;
}

/** How an expression reads back, for error messages ("val.iou", "layers[\"conv1\"]"). */
export function pathOf(expr: Expr): string {
  switch (expr.kind) {
    case 'name': return expr.name;
    case 'member': return `${pathOf(expr.object)}.${expr.name}`;
    case 'index': return `${pathOf(expr.object)}[…]`;
    default: return 'the value';
  }
}

export function isTruthy(value: Value): boolean {
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'string') return value.length > 0;
  if (value === null) return false;
  return typeof value === 'boolean' ? value : true;
}

function asNumber(value: Value, op: string): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === null) return null;
  throw new ExpressionError(`"${op}" needs numbers, not ${typeName(value)}`);
}


function binary(op: BinaryOp, left: Value, right: Value): Value {
  switch (op) {
    // Numbers, text, booleans and null compare by value; groups only to themselves.
    case '==': return left === right;
    case '!=': return left !== right;
    case '<': case '<=': case '>': case '>=': {
      if (typeof left === 'string' && typeof right === 'string') return compare(op, left.localeCompare(right), 0);
      const a = asNumber(left, op), b = asNumber(right, op);
      // A missing value (null, e.g. the IoU of a class absent from the image) never satisfies a comparison.
      if (a === null || b === null) return false;
      return compare(op, a, b);
    }
    case '+': case '-': case '*': case '/': case '%': {
      const a = asNumber(left, op), b = asNumber(right, op);
      if (a === null || b === null) return null;
      return op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b;
    }
    case '&&': case '||': throw new Error('logical operators are evaluated lazily');
  }
}

function compare(op: '<' | '<=' | '>' | '>=', a: number, b: number): boolean {
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

export function evaluate(expr: Expr, scope: ValueTree): Value {
  switch (expr.kind) {
    case 'literal': return expr.value;
    case 'name': {
      const found = lookup(scope, expr.name);
      if (found === undefined) throw new ExpressionError(`Unknown name "${expr.name}"; known names: ${knownKeys(scope)}`, expr.pos);
      if (found instanceof Unavailable) throw new NotYetError(`${expr.name} has no value yet: ${found.why}`, expr.pos);
      return found;
    }
    case 'member': return member(evaluate(expr.object, scope), expr.name, pathOf(expr.object), expr.pos);
    case 'index': {
      const object = evaluate(expr.object, scope);
      const index = evaluate(expr.index, scope);
      if (typeof index === 'number' && isTree(object)) {
        // Numeric index into a named group: the n-th entry (iou[8] is the IoU of class 8).
        const keys = Object.keys(object);
        if (!Number.isInteger(index) || index < 0 || index >= keys.length) {
          throw new ExpressionError(`${pathOf(expr.object)}[${index}] is out of range (0..${keys.length - 1})`, expr.pos);
        }
        return member(object, keys[index], pathOf(expr.object), expr.pos);
      }
      if (typeof index !== 'string') throw new ExpressionError(`An index must be a name in quotes or a number, not ${typeName(index)}`, expr.pos);
      return member(object, index, pathOf(expr.object), expr.pos);
    }
    case 'call': {
      const fn = FUNCTIONS[expr.callee.toLowerCase()];
      if (!fn) throw new ExpressionError(`Unknown function "${expr.callee}"; known: ${FUNCTION_NAMES.join(', ')}`, expr.pos);
      const [least, most] = fn.arity;
      if (expr.args.length < least || expr.args.length > most) {
        throw new ExpressionError(`${expr.callee}() takes ${least === most ? least : `at least ${least}`} argument${least === 1 && most === 1 ? '' : 's'}`, expr.pos);
      }
      const args = expr.args.map((a) => asNumber(evaluate(a, scope), `${expr.callee}()`));
      if (args.some((a) => a === null)) return expr.callee.toLowerCase() === 'isnan' ? true : null;
      return fn.fn(...(args as number[]));
    }
    case 'unary': {
      const operand = evaluate(expr.operand, scope);
      if (expr.op === '!') return !isTruthy(operand);
      const n = asNumber(operand, '-');
      return n === null ? null : -n;
    }
    case 'binary': {
      if (expr.op === '&&') return isTruthy(evaluate(expr.left, scope)) && isTruthy(evaluate(expr.right, scope));
      if (expr.op === '||') return isTruthy(evaluate(expr.left, scope)) || isTruthy(evaluate(expr.right, scope));
      return binary(expr.op, evaluate(expr.left, scope), evaluate(expr.right, scope));
    }
  }
}

/**
 * Checks the names an expression uses against the shape of the scope, before any number exists: unknown top-level names and
 * unknown members of groups whose keys are already known (e.g. class names under `iou`) are errors at breakpoint-setting time.
 * Groups whose keys are not known in advance (layers, watch images) are marked Unavailable in the shape and not checked.
 */
export function checkNames(expr: Expr, shape: ValueTree): void {
  const resolve = (e: Expr): Value | Unavailable | undefined => {
    switch (e.kind) {
      case 'literal': return e.value;
      case 'name': {
        const found = lookup(shape, e.name);
        if (found === undefined) throw new ExpressionError(`Unknown name "${e.name}"; known names: ${knownKeys(shape)}`, e.pos);
        return found;
      }
      case 'member': {
        const object = resolve(e.object);
        if (!isTree(object)) return undefined;
        const found = lookup(object, e.name);
        if (found === undefined) throw new ExpressionError(`${pathOf(e.object)} has no "${e.name}"; it has ${knownKeys(object)}`, e.pos);
        return found;
      }
      case 'index': resolve(e.object); resolve(e.index); return undefined;
      case 'call':
        if (!FUNCTIONS[e.callee.toLowerCase()]) throw new ExpressionError(`Unknown function "${e.callee}"; known: ${FUNCTION_NAMES.join(', ')}`, e.pos);
        e.args.forEach(resolve);
        return undefined;
      case 'unary': resolve(e.operand); return undefined;
      case 'binary': resolve(e.left); resolve(e.right); return undefined;
    }
  };
  resolve(expr);
}
