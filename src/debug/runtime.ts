// The training runtime behind the debugger (no vscode): drives the trainer process at batch boundaries, holds breakpoints
// and finding filters, decides where to stop, and answers what the paused run looks like.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { resolveConfig, type ResolvedConfig } from '../config/resolve';
import { canStart, lineAndCharacter, validateConfigText } from '../config/validate';
import type { SegScopeConfig } from '../protocol/config';
import type { Finding, RunEvent } from '../protocol/runEvents';
import { runPaths, type ActivationHeader, type EpochMetrics } from '../protocol/runFolder';
import { PendingRequests } from '../protocol/rpc';
import type { HostToTrainer, ProbeResult, TrainerToHost } from '../protocol/trainer';
import {
  ALL_EPOCHS, BreakpointSyntaxError, describePlace, findEpochsLine, isTimelinePath, parseFunctionBreakpoint, parseHitCondition,
  placeMatches, type Boundary, type BreakpointPlace, type HitTest,
} from './breakpoints';
import { ExpressionError } from './expr/lexer';
import { checkNames, evaluate, isTruthy, NotYetError, type Value, type ValueTree } from './expr/evaluate';
import { parseExpression, type Expr } from './expr/parser';
import { describeFinding, filterFor, FINDING_FILTERS } from './findingFilters';
import { buildScopes, evaluationScope, scopeShape, type PausedScopes, type RunPosition } from './pausedState';
import type { TrainerChannel, TrainerStarter } from './trainerChannel';
import { timelineText, timelineUri } from './timeline';

export interface LaunchOptions {
  /** Path of segscope.json. */
  configPath: string;
  /** Resume from a run folder's checkpoint: a path (relative to segscope.json's folder), or true for the newest run. */
  resume?: string | boolean;
  /** Stop before the first batch. */
  stopOnStart?: boolean;
  /** Allow user loss/metric modules (trusted workspace). */
  trust?: boolean;
}

export type StopReason = 'entry' | 'breakpoint' | 'exception' | 'step' | 'pause';

export interface StopInfo {
  reason: StopReason;
  /** One line for the Call Stack / stopped event. */
  description: string;
  breakpointIds: number[];
  finding?: Finding;
  position: RunPosition;
}

export interface BreakpointRequest {
  /** Function breakpoints: the text (`epoch 5`). */
  name?: string;
  /** Line breakpoints: 1-based line. */
  line?: number;
  condition?: string;
  hitCondition?: string;
}

export interface BreakpointState {
  id: number;
  verified: boolean;
  message?: string;
  line?: number;
}

export type RunEnd = { status: 'finished' | 'stopped' | 'early-stopped' | 'crashed'; runDir?: string; error?: string; epochsDone?: number };

export interface RuntimeListener {
  stopped(stop: StopInfo): void;
  continued?(): void;
  output(text: string, category: 'console' | 'stderr' | 'important'): void;
  ended(end: RunEnd): void;
  breakpointChanged(state: BreakpointState): void;
  timeline(update: { uri: string; text: string }): void;
  runStarted?(info: { runDir: string; configPath: string; epochs: number; batchesPerEpoch: number }): void;
}

interface TrainingBreakpoint {
  id: number;
  label: string;
  place: BreakpointPlace;
  condition?: Expr;
  hitTest?: HitTest;
  hits: number;
  verified: boolean;
  message?: string;
  line?: number;
}

/** What the user asked the run to do until the next stop. */
type Intent = { kind: 'continue' } | { kind: 'pause' } | { kind: 'stepBatch'; fromStep: number } | { kind: 'stepEpoch'; fromEpochs: number };

/** How often the trainer must halt so that the runtime can decide: never, at epoch ends, or after every batch. */
type Granularity = 'none' | 'epoch' | 'batch';

const STOP_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 60_000;

export class TrainingRuntime {
  private config!: ResolvedConfig;
  private configPath = '';
  private launch!: LaunchOptions;
  private trainer: TrainerChannel | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail = '';

  private runDir: string | undefined;
  private epochs = 0;
  private batchesPerEpoch = 0;
  private position: RunPosition = { epoch: 1, batch: 0, step: 0, atEpochEnd: false };
  private epochsDone = 0;
  private batchLoss: number | undefined;
  private learningRate: number | undefined;
  private readonly metrics = new Map<number, EpochMetrics>();
  private runEnd: RunEnd | undefined;

  private nextBreakpointId = 1;
  private functionBreakpoints: TrainingBreakpoint[] = [];
  private readonly lineBreakpoints = new Map<string, TrainingBreakpoint[]>();
  private enabledFilters = new Set(FINDING_FILTERS.filter((f) => f.default).map((f) => f.id));

  private intent: Intent = { kind: 'continue' };
  /** The trainer is halted at a boundary (waiting for our command). */
  private trainerHalted = false;
  /** The user sees the run as stopped. */
  private stop: StopInfo | undefined;
  private lastCommand: HostToTrainer['type'] | undefined;
  private pauseSent = false;
  private startPausePending = false;
  private hitIds: number[] = [];
  private hitFinding: Finding | undefined;
  private stopping = false;
  private readonly probes = new PendingRequests();

  constructor(private readonly startTrainer: TrainerStarter, private readonly listener: RuntimeListener) {}

  // ---- launch and lifetime ----------------------------------------------------------------------------------

  /** Reads and validates segscope.json (throws a readable error if it cannot start a run); call before setting breakpoints. */
  loadConfig(options: LaunchOptions): void {
    this.launch = options;
    this.configPath = path.resolve(options.configPath);
    this.config = resolveConfig(this.readConfig());
    this.epochs = this.config.train.epochs;
  }

  private readConfig(): SegScopeConfig {
    let text: string;
    try {
      text = readFileSync(this.configPath, 'utf8');
    } catch (error) {
      throw new Error(`Cannot read ${this.configPath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`);
    }
    const { config, problems } = validateConfigText(text);
    if (!config || !canStart(problems)) {
      const errors = problems.filter((p) => p.severity === 'error').slice(0, 5)
        .map((p) => `  line ${lineAndCharacter(text, p.offset).line + 1}: ${p.message}`);
      throw new Error(`${this.configPath} cannot start a run:\n${errors.join('\n')}`);
    }
    return config;
  }

  get classes(): readonly string[] {
    return this.config.data.classes;
  }

  get timelineUri(): string {
    return timelineUri(this.config.name, this.configPath);
  }

  /** Starts the trainer; it halts before the first batch so breakpoints are in force from the start. */
  start(resumeRunDir?: string): void {
    const raw = this.readConfig();
    const resume = resumeRunDir ?? this.resolveResume();
    this.resetRunState();
    this.startPausePending = true;
    this.trainerHalted = false;
    let exit!: () => void;
    this.exited = new Promise<void>((resolve) => { exit = resolve; });
    let started = false;
    this.trainer = this.startTrainer({
      message: (message) => {
        if (message.type === 'trainer/ready' && !started) {
          started = true;
          // lastEpochBoundary: a breakpoint, filter or step that is due after the last epoch can stop there before run/end.
          this.send({
            type: 'run/start', configPath: this.configPath, config: raw, resumeRunDir: resume, pauseOnStart: true, lastEpochBoundary: true,
            trust: this.launch.trust,
          });
        }
        this.onTrainerMessage(message);
      },
      stderr: (text) => {
        this.stderrTail = (this.stderrTail + text).slice(-4000);
        this.listener.output(text, 'stderr');
      },
      exit: (code, signal) => {
        this.trainer = undefined;
        this.probes.rejectAll('the trainer has ended');
        exit();
        if (!this.runEnd) {
          const why = signal ? `killed by ${signal}` : `exit code ${code}`;
          this.finishRun({ status: this.stopping ? 'stopped' : 'crashed', runDir: this.runDir, error: this.stopping ? undefined : `The trainer ended (${why}) without finishing the run.${this.stderrTail ? `\n${this.stderrTail.trim()}` : ''}` });
        }
      },
    });
    this.listener.timeline({ uri: this.timelineUri, text: timelineText(this.epochs, this.metrics) });
  }

  private resolveResume(): string | undefined {
    const { resume } = this.launch;
    if (!resume) return undefined;
    const configDir = path.dirname(this.configPath);
    if (typeof resume === 'string') {
      const dir = path.resolve(configDir, resume);
      if (!existsSync(path.join(dir, runPaths.info))) throw new Error(`Cannot resume: ${dir} is not a run folder (no ${runPaths.info})`);
      return dir;
    }
    const runsDir = path.resolve(configDir, this.config.runsDir);
    const runs = existsSync(runsDir)
      ? readdirSync(runsDir).map((name) => path.join(runsDir, name)).filter((dir) => existsSync(path.join(dir, runPaths.info)))
      : [];
    if (runs.length === 0) throw new Error(`Cannot resume: no run folder in ${runsDir}`);
    return runs.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  }

  private resetRunState(): void {
    this.runDir = undefined;
    this.runEnd = undefined;
    this.position = { epoch: 1, batch: 0, step: 0, atEpochEnd: false };
    this.epochsDone = 0;
    this.batchLoss = undefined;
    this.learningRate = undefined;
    this.metrics.clear();
    this.stop = undefined;
    this.intent = { kind: 'continue' };
    this.hitIds = [];
    this.hitFinding = undefined;
    this.pauseSent = false;
    this.stopping = false;
    this.stderrTail = '';
    for (const bp of this.allBreakpoints()) bp.hits = 0;
  }

  /** Stop: the trainer saves a checkpoint and completes the run folder; resolves when the process has ended. */
  async terminate(): Promise<void> {
    if (!this.trainer) return;
    this.stopping = true;
    this.stop = undefined;
    this.send({ type: 'run/stop' });
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
    const result = await Promise.race([this.exited.then(() => 'exited' as const), this.runEnded(), timeout]);
    if (result !== 'exited') {
      // The run folder is complete once run/end was sent; give the process a moment to exit on its own.
      const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref());
      if ((await Promise.race([this.exited.then(() => 'exited' as const), grace])) !== 'exited') this.trainer?.kill();
      await this.exited;
    }
  }

  private runEnded(): Promise<'ended'> {
    return new Promise((resolve) => {
      const check = () => (this.runEnd ? resolve('ended') : setTimeout(check, 20).unref());
      check();
    });
  }

  /** Restart = stop with a checkpoint, then resume the same run folder from it. */
  async restart(): Promise<void> {
    const runDir = this.runDir;
    await this.terminate();
    this.listener.output(runDir ? `Restarting from the last checkpoint of ${runDir}\n` : 'Restarting the run\n', 'console');
    this.start(runDir);
  }

  /** Kills the trainer without waiting (the adapter is going away). */
  dispose(): void {
    this.trainer?.kill();
  }

  // ---- controls ---------------------------------------------------------------------------------------------

  continue(): void {
    this.resumeWith({ kind: 'continue' });
  }

  /** One batch (Step Over). */
  stepBatch(): void {
    this.resumeWith({ kind: 'stepBatch', fromStep: this.position.step });
  }

  /** To the end of the current epoch, probes computed (Step Into). */
  stepEpoch(): void {
    this.resumeWith({ kind: 'stepEpoch', fromEpochs: this.epochsDone });
  }

  /** Stops at the next batch boundary. */
  pause(): void {
    if (this.stop) return;
    this.intent = { kind: 'pause' };
    if (!this.trainerHalted) this.haltTrainerSoon();
  }

  get isStopped(): boolean {
    return this.stop !== undefined;
  }

  get currentStop(): StopInfo | undefined {
    return this.stop;
  }

  private resumeWith(intent: Intent): void {
    this.intent = intent;
    this.stop = undefined;
    this.listener.continued?.();
    if (this.trainerHalted) this.drive();
  }

  // ---- breakpoints ------------------------------------------------------------------------------------------

  setFunctionBreakpoints(requests: BreakpointRequest[]): BreakpointState[] {
    this.functionBreakpoints = requests.map((request) => {
      let place: BreakpointPlace;
      try {
        place = parseFunctionBreakpoint(request.name ?? '');
      } catch (error) {
        return this.unverified(request.name ?? '', (error as Error).message);
      }
      return this.compile(request.name ?? '', place, request);
    });
    this.regear();
    return this.functionBreakpoints.map(stateOf);
  }

  setLineBreakpoints(sourcePath: string, requests: BreakpointRequest[]): BreakpointState[] {
    const breakpoints = requests.map((request) => {
      const line = request.line ?? 0;
      const bp = this.lineBreakpoint(sourcePath, line, request);
      bp.line = line;
      return bp;
    });
    this.lineBreakpoints.set(sourceKey(sourcePath), breakpoints);
    this.regear();
    return breakpoints.map(stateOf);
  }

  private lineBreakpoint(sourcePath: string, line: number, request: BreakpointRequest): TrainingBreakpoint {
    if (isTimelinePath(sourcePath)) {
      if (line < 1) return this.unverified(`line ${line}`, 'Timeline lines start at 1 (line N = epoch N)');
      if (line > this.epochs) return this.unverified(`epoch ${line}`, `The run has ${this.epochs} epochs; line ${line} is after its end`);
      return this.compile(`epoch ${line}`, { at: 'epoch', epochs: { from: line, to: line, every: 1 } }, request);
    }
    if (this.configPath && sourceKey(sourcePath) === sourceKey(this.configPath)) {
      let epochsLine: number | undefined;
      try { epochsLine = findEpochsLine(readFileSync(this.configPath, 'utf8')); } catch { epochsLine = undefined; }
      if (epochsLine === undefined) return this.unverified(`line ${line}`, 'Add "epochs" to "train" in segscope.json and put the breakpoint on that line (it stops at every epoch)');
      if (line !== epochsLine) return this.unverified(`line ${line}`, `In segscope.json a breakpoint goes on the "epochs" line (line ${epochsLine}): it stops at the end of every epoch`);
      return this.compile('every epoch', { at: 'epoch', epochs: ALL_EPOCHS }, request);
    }
    return this.unverified(`line ${line}`, 'SegScope breakpoints go on the "epochs" line of this session\'s segscope.json, on an epoch\'s line of the SegScope Timeline, or in the Breakpoints view as function breakpoints (`epoch 5`)');
  }

  setFindingFilters(filterIds: string[]): void {
    this.enabledFilters = new Set(filterIds);
    this.regear();
  }

  private compile(label: string, place: BreakpointPlace, request: BreakpointRequest): TrainingBreakpoint {
    const bp: TrainingBreakpoint = { id: this.nextBreakpointId++, label, place, hits: 0, verified: true };
    try {
      if (request.condition?.trim()) {
        bp.condition = parseExpression(request.condition);
        checkNames(bp.condition, scopeShape(this.classes, this.optimizerSettings()));
      }
    } catch (error) {
      return { ...bp, verified: false, message: `Condition: ${conditionMessage(error, request.condition ?? '')}` };
    }
    try {
      if (request.hitCondition?.trim()) bp.hitTest = parseHitCondition(request.hitCondition);
    } catch (error) {
      return { ...bp, verified: false, message: (error as BreakpointSyntaxError).message };
    }
    bp.message = `Stops at ${describePlace(place)}${request.condition?.trim() ? ` when ${request.condition.trim()}` : ''}`;
    return bp;
  }

  private unverified(label: string, message: string): TrainingBreakpoint {
    return { id: this.nextBreakpointId++, label, place: { at: 'epoch', epochs: ALL_EPOCHS }, hits: 0, verified: false, message };
  }

  private allBreakpoints(): TrainingBreakpoint[] {
    return [...this.functionBreakpoints, ...[...this.lineBreakpoints.values()].flat()];
  }

  /** Checks breakpoints at a boundary the trainer just passed; remembers hits for the next decision. */
  private checkBreakpoints(boundary: Boundary): void {
    for (const bp of this.allBreakpoints()) {
      if (!bp.verified || !placeMatches(bp.place, boundary)) continue;
      if (bp.condition) {
        let value: Value;
        try {
          value = evaluate(bp.condition, this.evaluationTree());
        } catch (error) {
          // `miou` before the first epoch ended: the condition cannot be true yet.
          if (error instanceof NotYetError) continue;
          bp.verified = false;
          bp.message = `Condition: ${(error as Error).message}`;
          this.listener.breakpointChanged(stateOf(bp));
          this.listener.output(`Breakpoint "${bp.label}" disabled: ${bp.message}\n`, 'important');
          continue;
        }
        if (!isTruthy(value)) continue;
      }
      bp.hits++;
      if (bp.hitTest && !bp.hitTest(bp.hits)) continue;
      this.hitIds.push(bp.id);
    }
    if (this.hitIds.length > 0) this.haltTrainerSoon();
  }

  // ---- the trainer's messages and the decisions -------------------------------------------------------------

  private onTrainerMessage(message: TrainerToHost): void {
    switch (message.type) {
      case 'trainer/ready': return;
      case 'run/event': this.onRunEvent(message.event); return;
      case 'run/paused':
        this.trainerHalted = true;
        this.pauseSent = false;
        if (this.position.step === 0 && message.position.step > 0) {
          // A resumed run: take the trainer's word for where it stands.
          this.position = { epoch: message.position.epoch, batch: message.position.batch, step: message.position.step, atEpochEnd: false };
        }
        this.decide();
        return;
      case 'run/resumed': return;
      case 'probe/reply': this.probes.settle(message.id, message.reply); return;
      case 'trainer/error':
        this.listener.output(`Trainer error: ${message.message}\n`, 'stderr');
        this.stderrTail = (this.stderrTail + message.message + '\n').slice(-4000);
        return;
      default: {
        const unknown: never = message;
        this.listener.output(`Unknown trainer message ${JSON.stringify(unknown)}\n`, 'stderr');
      }
    }
  }

  private onRunEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run/start':
        this.runDir = event.runDir;
        this.epochs = event.epochs;
        this.batchesPerEpoch = event.batchesPerEpoch;
        this.listener.runStarted?.({ runDir: event.runDir, configPath: this.configPath, epochs: event.epochs, batchesPerEpoch: event.batchesPerEpoch });
        this.listener.output(`Training ${this.config.name}: ${event.epochs} epochs × ${event.batchesPerEpoch} batches on ${event.backend.name}; run folder ${event.runDir}\n`, 'console');
        this.emitTimeline();
        return;
      case 'batch/end':
        this.position = { epoch: event.epoch, batch: event.batch, step: event.step, atEpochEnd: false };
        // JSON (IPC, events.jsonl) writes NaN and Infinity as null: a null loss is a diverged one.
        this.batchLoss = event.loss ?? NaN;
        this.learningRate = event.learningRate;
        this.checkBreakpoints({ kind: 'batch', epoch: event.epoch, batch: event.batch });
        return;
      case 'epoch/end':
        this.metrics.set(event.epoch, withNaNs(event.metrics));
        this.epochsDone = Math.max(this.epochsDone, event.epoch);
        this.position = { ...this.position, epoch: event.epoch, atEpochEnd: true };
        this.emitTimeline();
        this.checkBreakpoints({ kind: 'epoch', epoch: event.epoch });
        return;
      case 'finding':
        this.listener.output(`Health: ${describeFinding(event.finding)}\n`, event.finding.severity === 'info' ? 'console' : 'important');
        if (!this.hitFinding && filterFor(event.finding, this.enabledFilters)) {
          this.hitFinding = event.finding;
          this.haltTrainerSoon();
        }
        return;
      case 'warning': this.listener.output(`Warning: ${event.message}\n`, 'important'); return;
      case 'data/skipped': this.listener.output(`Skipped ${event.file}: ${event.why}\n`, 'console'); return;
      case 'checkpoint': return;
      case 'run/end':
        this.finishRun({ status: event.status, runDir: event.runDir, error: event.error, epochsDone: event.epochsDone });
        return;
      default: {
        const unknown: never = event;
        this.listener.output(`Unknown run event ${JSON.stringify(unknown)}\n`, 'console');
      }
    }
  }

  private finishRun(end: RunEnd): void {
    if (this.runEnd) return;
    this.runEnd = end;
    this.trainerHalted = false;
    this.stop = undefined;
    const val = this.metrics.get(this.epochsDone)?.val;
    this.listener.output(`Run ${end.status}${end.epochsDone !== undefined ? ` after ${end.epochsDone} epochs` : ''}${val ? ` · val mIoU ${val.miou.toFixed(3)}` : ''}${end.runDir ? ` · ${end.runDir}` : ''}\n`, end.status === 'crashed' ? 'stderr' : 'console');
    if (end.error) this.listener.output(`${end.error}\n`, 'stderr');
    this.listener.ended(end);
  }

  /** The trainer halted at a boundary: stop for the user, or send it on. */
  private decide(): void {
    if (this.stopping) return;
    const stop = this.dueStop();
    this.hitIds = [];
    this.hitFinding = undefined;
    if (stop) {
      this.stop = stop;
      this.intent = { kind: 'continue' };
      this.listener.stopped(stop);
    } else {
      this.drive();
    }
  }

  private dueStop(): StopInfo | undefined {
    const position = { ...this.position };
    const where = positionText(position);
    if (this.startPausePending) {
      this.startPausePending = false;
      if (this.launch.stopOnStart) return { reason: 'entry', description: `Stopped before the first batch (${where})`, breakpointIds: [], position };
    }
    if (this.hitFinding) {
      const finding = this.hitFinding;
      const filter = filterFor(finding, this.enabledFilters);
      return { reason: 'exception', description: `${filter?.label ?? 'Health finding'}: ${finding.cause}`, breakpointIds: [], finding, position };
    }
    if (this.hitIds.length > 0) {
      const labels = this.allBreakpoints().filter((bp) => this.hitIds.includes(bp.id)).map((bp) => bp.label);
      return { reason: 'breakpoint', description: `Breakpoint ${labels.join(', ')} at ${where}`, breakpointIds: [...new Set(this.hitIds)], position };
    }
    const intent = this.intent;
    if (intent.kind === 'pause') return { reason: 'pause', description: `Paused at ${where}`, breakpointIds: [], position };
    if (intent.kind === 'stepBatch' && position.step > intent.fromStep) return { reason: 'step', description: `Stepped one batch to ${where}`, breakpointIds: [], position };
    if (intent.kind === 'stepEpoch' && this.epochsDone > intent.fromEpochs) return { reason: 'step', description: `Stepped to the end of epoch ${this.epochsDone}`, breakpointIds: [], position };
    return undefined;
  }

  private granularity(): Granularity {
    if (this.intent.kind === 'pause' || this.intent.kind === 'stepBatch') return 'batch';
    const active = this.allBreakpoints().filter((bp) => bp.verified);
    if (this.enabledFilters.size > 0 || active.some((bp) => bp.place.at === 'batch')) return 'batch';
    if (this.intent.kind === 'stepEpoch' || active.length > 0) return 'epoch';
    return 'none';
  }

  /** Sends the halted trainer on to the next boundary where a decision may be needed. */
  private drive(): void {
    if (!this.trainer || this.runEnd) return;
    const granularity = this.granularity();
    // A trainer halted between an epoch's last batch and its validation finishes the epoch first.
    const epochUnfinished = this.batchesPerEpoch > 0 && this.position.batch >= this.batchesPerEpoch && !this.position.atEpochEnd;
    this.trainerHalted = false;
    if (granularity === 'none') this.send({ type: 'run/resume' });
    else if (granularity === 'epoch' || epochUnfinished) this.send({ type: 'run/stepEpoch' });
    else this.send({ type: 'run/stepBatch' });
  }

  /** Asks a freely running trainer to halt at its next boundary (it halts there anyway when stepping). */
  private haltTrainerSoon(): void {
    if (this.trainerHalted || this.pauseSent || !this.trainer || this.runEnd) return;
    if (this.lastCommand === 'run/resume') {
      this.pauseSent = true;
      this.send({ type: 'run/pause' });
    }
  }

  /** Breakpoints or filters changed while the trainer runs freely: make it halt so the new ones take effect. */
  private regear(): void {
    if (!this.trainerHalted && this.lastCommand === 'run/resume' && this.granularity() !== 'none') this.haltTrainerSoon();
  }

  private send(message: HostToTrainer): void {
    this.lastCommand = message.type;
    this.trainer?.send(message);
  }

  private emitTimeline(): void {
    this.listener.timeline({ uri: this.timelineUri, text: timelineText(this.epochs, this.metrics) });
  }

  // ---- what the paused run looks like -----------------------------------------------------------------------

  private optimizerSettings(): Record<string, string | number | undefined> {
    const { name, learningRate, momentum, beta1, beta2, epsilon, rho } = this.config?.train.optimizer ?? { name: 'adam', learningRate: 0 };
    return { name, configuredLr: learningRate, momentum, beta1, beta2, epsilon, rho };
  }

  scopes(): PausedScopes {
    const metrics = this.position.atEpochEnd ? this.metrics.get(this.position.epoch) : this.metrics.get(this.epochsDone);
    return buildScopes({
      position: this.position, epochs: this.epochs, batchesPerEpoch: this.batchesPerEpoch, classes: this.classes,
      batchLoss: this.batchLoss, learningRate: this.learningRate, metrics, optimizer: this.optimizerSettings(),
      finding: this.stop?.finding, channels: metrics ? (layer) => this.channels(metrics, layer) : undefined,
    });
  }

  private evaluationTree(): ValueTree {
    return evaluationScope(this.scopes(), { epochs: this.epochs, batchesPerEpoch: this.batchesPerEpoch });
  }

  /** Evaluates a Debug Console / hover expression on the paused run. */
  evaluate(expression: string): Value {
    if (this.runEnd) throw new ExpressionError('The run has ended');
    return evaluate(parseExpression(expression), this.evaluationTree());
  }

  /** Per-channel activation ranges of a watched layer, from the epoch folder's activation headers. */
  private channels(metrics: EpochMetrics, layer: string): ValueTree | undefined {
    if (!this.runDir) return undefined;
    const perImage: Record<string, Value> = {};
    for (const image of Object.keys(metrics.watch)) {
      const file = path.join(this.runDir, runPaths.activationHeader(metrics.epoch, image, layer));
      if (!existsSync(file)) continue;
      try {
        const header = JSON.parse(readFileSync(file, 'utf8')) as ActivationHeader;
        const channels: Record<string, Value> = {};
        header.min.forEach((min, c) => { channels[`channel ${c}`] = { min, max: header.max[c] }; });
        perImage[image] = channels;
      } catch {
        // A header being written right now: leave this image out.
      }
    }
    return Object.keys(perImage).length > 0 ? perImage : undefined;
  }

  /**
   * Per-channel activation ranges of any layer at the paused state, computed on request by the trainer (probe/request)
   * on the first watch image; the trainer writes the activation and its header into the run folder.
   */
  async probeChannels(layer: string): Promise<ValueTree> {
    if (!this.stop || !this.trainer) throw new Error('Pause the run first: probes are computed at a stop');
    const metrics = this.metrics.get(this.epochsDone);
    const image = Object.keys(metrics?.watch ?? {})[0];
    if (!image) throw new Error('No watch image to probe with yet (they are known once an epoch has ended)');
    const { id, promise } = this.probes.open<ProbeResult>();
    this.send({ type: 'probe/request', id, image, layer });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('The trainer did not answer the probe within a minute')), PROBE_TIMEOUT_MS).unref());
    const result = await Promise.race([promise, timeout]);
    const header = JSON.parse(readFileSync(path.join(this.runDir ?? '', result.header), 'utf8')) as ActivationHeader;
    const channels: Record<string, Value> = {};
    header.min.forEach((min, c) => { channels[`channel ${c}`] = { min, max: header.max[c] }; });
    return { [image]: channels };
  }

  get run(): { runDir?: string; epochs: number; batchesPerEpoch: number; configPath: string } {
    return { runDir: this.runDir, epochs: this.epochs, batchesPerEpoch: this.batchesPerEpoch, configPath: this.configPath };
  }
}

/** Restores the NaNs that JSON turned into null in an epoch's loss and mean scores (per-class IoU null means "class absent"). */
function withNaNs(metrics: EpochMetrics): EpochMetrics {
  const split = (s: EpochMetrics['train']) => ({ ...s, loss: s.loss ?? NaN, miou: s.miou ?? NaN, pixelAccuracy: s.pixelAccuracy ?? NaN });
  return { ...metrics, train: split(metrics.train), val: split(metrics.val) };
}

function stateOf(bp: TrainingBreakpoint): BreakpointState {
  return { id: bp.id, verified: bp.verified, message: bp.message, line: bp.line };
}

function sourceKey(file: string): string {
  if (isTimelinePath(file)) return file;
  const resolved = path.resolve(file);
  return process.platform === 'win32' || process.platform === 'darwin' ? resolved.toLowerCase() : resolved;
}

function conditionMessage(error: unknown, condition: string): string {
  if (error instanceof ExpressionError && error.pos !== undefined) return `${error.message} (in "${condition.trim()}")`;
  return (error as Error).message;
}

export function positionText(position: RunPosition): string {
  return `epoch ${position.epoch} · batch ${position.batch}${position.atEpochEnd ? ' (end of epoch)' : ''}`;
}
