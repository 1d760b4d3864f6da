// Where the drills keep what they leave for a person to read: the balancer's log, each replica's output.
import path from 'node:path';
import { ROOT } from '../paths.js';

export const DRILL_LOG_DIR = path.join(ROOT, '.tmp/drill');
