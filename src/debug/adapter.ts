// The SegScope debug adapter: translates the Debug Adapter Protocol to the training runtime and back. No vscode import:
// the extension runs it inline, `node dist/debugAdapter.js` runs it over stdio.
import {
  Breakpoint, BreakpointEvent, ContinuedEvent, Event, ExitedEvent, Handles, InitializedEvent, LoggingDebugSession, OutputEvent,
  Scope, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import path from 'node:path';
import { Unavailable, isTree, type Value, type ValueTree } from './expr/evaluate';
import { describeFinding, FINDING_FILTERS } from './findingFilters';
import { formatNumber } from './format';
import { positionText, TrainingRuntime, type BreakpointState, type RuntimeListener } from './runtime';
import type { TrainerStarter } from './trainerChannel';

/** The launch arguments of a `segscope` debug configuration (mirrored in package.json's configurationAttributes). */
export interface SegScopeLaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** Path of segscope.json. */
  config: string;
  /** Resume from the last checkpoint: a run folder (relative to segscope.json), or true for the newest run. */
  resume?: string | boolean;
  /** Stop before the first batch. */
  stopOnStart?: boolean;
  /** Allow user loss/metric modules (set by the extension in trusted workspaces). */
  trust?: boolean;
}

/** The user-facing launch arguments; package.json's configurationAttributes must list exactly these. */
export const LAUNCH_ARGUMENT_NAMES = ['config', 'resume', 'stopOnStart'] as const satisfies readonly (keyof SegScopeLaunchArguments)[];

/** Custom DAP events the extension listens to (onDidReceiveDebugSessionCustomEvent). */
export const CUSTOM_EVENTS = {
  /** body: { uri, text } — the SegScope Timeline document's new text. */
  timeline: 'segscope.timeline',
  /** body: { runDir, configPath, epochs, batchesPerEpoch } */
  runStarted: 'segscope.runStarted',
  /** body: { runDir, configPath, epoch, batch, step, reason } — the dashboard jumps to this epoch. */
  stopped: 'segscope.stopped',
} as const;

const THREAD_ID = 1;
const FRAME_ID = 1;

/** A group of values behind a variablesReference, with the expression that reaches it (for "Copy as Expression"/watch). */
interface VariableGroup {
  tree: ValueTree;
  expression: string;
  /** The Layers scope: its entries are layers. */
  isLayers?: boolean;
  /** This group is one layer's stats. */
  layerName?: string;
  /** A layer's per-channel ranges that exist only once the trainer has probed that layer (expanding asks for them). */
  probeLayer?: string;
}

export class SegScopeDebugSession extends LoggingDebugSession {
  private readonly runtime: TrainingRuntime;
  private readonly groups = new Handles<VariableGroup>();
  private configurationDone!: () => void;
  private readonly configured = new Promise<void>((resolve) => { this.configurationDone = resolve; });
  private restarting = false;
  private ended = false;

  constructor(startTrainer: TrainerStarter) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.runtime = new TrainingRuntime(startTrainer, this.listener());
  }

  private listener(): RuntimeListener {
    return {
      stopped: (stop) => {
        this.groups.reset();
        const event = new StoppedEvent(stop.reason, THREAD_ID, stop.finding ? describeFinding(stop.finding) : undefined) as DebugProtocol.StoppedEvent;
        event.body.description = stop.description;
        if (stop.breakpointIds.length > 0) event.body.hitBreakpointIds = stop.breakpointIds;
        this.sendEvent(event);
        const run = this.runtime.run;
        this.sendEvent(new Event(CUSTOM_EVENTS.stopped, {
          runDir: run.runDir, configPath: run.configPath, epoch: stop.position.epoch, batch: stop.position.batch, step: stop.position.step, reason: stop.reason,
        }));
      },
      continued: () => this.sendEvent(new ContinuedEvent(THREAD_ID, true)),
      output: (text, category) => this.sendEvent(new OutputEvent(text, category)),
      ended: (end) => {
        if (this.restarting) return;
        this.ended = true;
        this.sendEvent(new ExitedEvent(end.status === 'crashed' ? 1 : 0));
        this.sendEvent(new TerminatedEvent());
      },
      breakpointChanged: (state) => this.sendEvent(new BreakpointEvent('changed', this.toBreakpoint(state))),
      timeline: (update) => this.sendEvent(new Event(CUSTOM_EVENTS.timeline, update)),
      runStarted: (info) => this.sendEvent(new Event(CUSTOM_EVENTS.runStarted, info)),
    };
  }

  protected initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsExceptionInfoRequest: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      exceptionBreakpointFilters: FINDING_FILTERS.map((f) => ({ filter: f.id, label: f.label, description: f.description, default: f.default })),
    };
    this.sendResponse(response);
  }

  protected configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configurationDone();
    this.sendResponse(response);
  }

  protected async launchRequest(response: DebugProtocol.LaunchResponse, args: SegScopeLaunchArguments): Promise<void> {
    if (typeof args.config !== 'string' || args.config === '') {
      this.sendErrorResponse(response, { id: 3001, format: 'The launch configuration needs "config": the path of segscope.json', showUser: true });
      return;
    }
    try {
      this.runtime.loadConfig({ configPath: path.resolve(args.config), resume: args.resume, stopOnStart: args.stopOnStart, trust: args.trust });
    } catch (error) {
      this.sendErrorResponse(response, { id: 3002, format: (error as Error).message.replace(/[{}]/g, ''), showUser: true });
      return;
    }
    // Breakpoints are checked against the config (class names, the "epochs" line), so ask for them only now.
    this.sendEvent(new InitializedEvent());
    await this.configured;
    try {
      this.runtime.start();
    } catch (error) {
      this.sendErrorResponse(response, { id: 3003, format: (error as Error).message.replace(/[{}]/g, ''), showUser: true });
      return;
    }
    this.sendResponse(response);
  }

  protected setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const sourcePath = args.source.path ?? '';
    const requests = (args.breakpoints ?? []).map((bp) => ({
      line: this.convertClientLineToDebugger(bp.line), condition: bp.condition, hitCondition: bp.hitCondition,
    }));
    const states = this.runtime.setLineBreakpoints(sourcePath, requests);
    response.body = { breakpoints: states.map((state) => this.toBreakpoint(state, args.source)) };
    this.sendResponse(response);
  }

  protected setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const states = this.runtime.setFunctionBreakpoints(args.breakpoints.map((bp) => ({ name: bp.name, condition: bp.condition, hitCondition: bp.hitCondition })));
    response.body = { breakpoints: states.map((state) => this.toBreakpoint(state)) };
    this.sendResponse(response);
  }

  protected setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    const known = new Set(FINDING_FILTERS.map((f) => f.id));
    const ids = [...args.filters, ...(args.filterOptions ?? []).map((o) => o.filterId)];
    this.runtime.setFindingFilters(ids.filter((id) => known.has(id)));
    response.body = { breakpoints: ids.map((id) => ({ verified: known.has(id), message: known.has(id) ? undefined : `Unknown filter ${id}` })) };
    this.sendResponse(response);
  }

  private toBreakpoint(state: BreakpointState, source?: DebugProtocol.Source): DebugProtocol.Breakpoint {
    const bp = new Breakpoint(state.verified, state.line !== undefined ? this.convertDebuggerLineToClient(state.line) : undefined) as DebugProtocol.Breakpoint;
    bp.id = state.id;
    if (state.message) bp.message = state.message;
    if (source) bp.source = source;
    return bp;
  }

  protected threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD_ID, 'training')] };
    this.sendResponse(response);
  }

  protected stackTraceRequest(response: DebugProtocol.StackTraceResponse): void {
    const stop = this.runtime.currentStop;
    if (!stop) {
      response.body = { stackFrames: [], totalFrames: 0 };
      this.sendResponse(response);
      return;
    }
    const what = stop.reason === 'exception' && stop.finding ? `${stop.finding.id}: ${stop.finding.cause}`
      : stop.reason === 'breakpoint' ? stop.description.replace(/ at epoch .*$/, '')
      : stop.reason === 'entry' ? 'before the first batch' : stop.reason;
    const name = `${positionText(stop.position)} — ${what}`;
    const source = new Source('SegScope Timeline', this.runtime.timelineUri);
    const frame = new StackFrame(FRAME_ID, name, source, this.convertDebuggerLineToClient(stop.position.epoch), 1);
    response.body = { stackFrames: [frame], totalFrames: 1 };
    this.sendResponse(response);
  }

  protected scopesRequest(response: DebugProtocol.ScopesResponse): void {
    const scopes = this.runtime.scopes();
    const stop = this.runtime.currentStop;
    const result: DebugProtocol.Scope[] = [
      new Scope('Metrics', this.groups.create({ tree: scopes.metrics as ValueTree, expression: '' }), false),
      new Scope('Optimizer', this.groups.create({ tree: scopes.optimizer as ValueTree, expression: 'optimizer' }), false),
    ];
    result.push(scopeOrNote('Layers', scopes.layers, 'layers', this.groups, true));
    result.push(scopeOrNote('Watch images', scopes.watch, 'watch', this.groups));
    if (stop?.finding && isTree(scopes.finding)) result.unshift(new Scope('Health finding', this.groups.create({ tree: scopes.finding, expression: 'finding' }), false));
    response.body = { scopes: result };
    this.sendResponse(response);
  }

  protected async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    const group = this.groups.get(args.variablesReference);
    if (group?.probeLayer) {
      try {
        group.tree = await this.runtime.probeChannels(group.probeLayer);
        group.probeLayer = undefined;
      } catch (error) {
        response.body = { variables: [{ name: 'probe', value: (error as Error).message, variablesReference: 0 }] };
        this.sendResponse(response);
        return;
      }
    }
    response.body = { variables: group ? this.variablesOf(group) : [] };
    this.sendResponse(response);
  }

  private variablesOf(group: VariableGroup): DebugProtocol.Variable[] {
    const variables: DebugProtocol.Variable[] = Object.entries(group.tree).map(([name, value]) => {
      const expression = memberExpression(group.expression, name);
      if (value instanceof Unavailable) return { name, value: `not yet: ${value.why}`, variablesReference: 0, evaluateName: expression };
      const reference = isTree(value) ? this.groups.create({ tree: value, expression, layerName: group.isLayers ? name : undefined }) : 0;
      return { name, value: formatValue(value), variablesReference: reference, evaluateName: expression, type: typeOf(value) };
    });
    const layer = group.layerName;
    if (layer && !('channels' in group.tree)) {
      // Not a watched layer: its channels come from a probe the trainer computes when this entry is expanded.
      variables.push({ name: 'channels', value: 'expand to probe this layer', variablesReference: this.groups.create({ tree: {}, expression: '', probeLayer: layer }) });
    }
    return variables;
  }

  protected evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    if (!this.runtime.isStopped) {
      this.sendErrorResponse(response, { id: 3010, format: 'Pause the run first: expressions are evaluated at a stop', showUser: false });
      return;
    }
    try {
      const value = this.runtime.evaluate(args.expression);
      const reference = isTree(value) ? this.groups.create({ tree: value, expression: args.expression }) : 0;
      response.body = { result: formatValue(value), variablesReference: reference, type: typeOf(value) };
      this.sendResponse(response);
    } catch (error) {
      this.sendErrorResponse(response, { id: 3011, format: (error as Error).message.replace(/[{}]/g, ''), showUser: false });
    }
  }

  protected exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const finding = this.runtime.currentStop?.finding;
    if (!finding) {
      this.sendErrorResponse(response, { id: 3020, format: 'This stop is not a health finding', showUser: false });
      return;
    }
    response.body = {
      exceptionId: finding.id,
      description: `${finding.cause} Fix: ${finding.fix}`,
      breakMode: 'always',
      details: { message: describeFinding(finding), typeName: finding.id },
    };
    this.sendResponse(response);
  }

  protected continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.runtime.continue();
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
  }

  /** Step Over: one batch. */
  protected nextRequest(response: DebugProtocol.NextResponse): void {
    this.runtime.stepBatch();
    this.sendResponse(response);
  }

  /** Step Into: to the end of the current epoch (validation and probes done). */
  protected stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.runtime.stepEpoch();
    this.sendResponse(response);
  }

  /** Step Out: also to the end of the current epoch (there is nothing larger to step out of). */
  protected stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.runtime.stepEpoch();
    this.sendResponse(response);
  }

  protected pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.runtime.pause();
    this.sendResponse(response);
  }

  /** Restart: stop with a checkpoint and resume the same run from it. */
  protected async restartRequest(response: DebugProtocol.RestartResponse): Promise<void> {
    this.restarting = true;
    try {
      await this.runtime.restart();
      this.sendResponse(response);
    } catch (error) {
      this.sendErrorResponse(response, { id: 3030, format: (error as Error).message.replace(/[{}]/g, ''), showUser: true });
    } finally {
      this.restarting = false;
    }
  }

  /** Stop: the trainer saves a checkpoint and completes the run folder before it exits. */
  protected async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.runtime.terminate();
    this.sendResponse(response);
    if (!this.ended) {
      this.ended = true;
      this.sendEvent(new TerminatedEvent());
    }
  }

  /** Kills the trainer without waiting (the adapter process or the extension is going away). */
  dispose(): void {
    this.runtime.dispose();
    super.dispose();
  }

  protected async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.runtime.terminate();
    this.runtime.dispose();
    this.sendResponse(response);
    // Ends the stand-alone adapter process; ignored when running inline in the extension host.
    this.shutdown();
  }
}

function scopeOrNote(name: string, tree: ValueTree | Unavailable, expression: string, groups: Handles<VariableGroup>, isLayers = false): DebugProtocol.Scope {
  if (tree instanceof Unavailable) return new Scope(`${name} (${tree.why})`, 0, false);
  return new Scope(name, groups.create({ tree, expression, isLayers }), false);
}

/** `parent.key` when the key is a plain name, else `parent["key"]` (layer names contain '/'). */
function memberExpression(parent: string, key: string): string {
  const plain = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key);
  if (!parent) return plain ? key : `[${JSON.stringify(key)}]`;
  return plain ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function typeOf(value: Value): string {
  if (value === null) return 'null';
  return isTree(value) ? 'group' : typeof value;
}

export function formatValue(value: Value): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null (no value)';
  if (typeof value === 'boolean') return String(value);
  const entries = Object.entries(value);
  const shown = entries.slice(0, 3).map(([k, v]) => `${k}: ${v instanceof Unavailable ? '…' : isTree(v) ? '{…}' : formatValue(v)}`);
  return `{${shown.join(', ')}${entries.length > 3 ? `, … ${entries.length} entries` : ''}}`;
}
