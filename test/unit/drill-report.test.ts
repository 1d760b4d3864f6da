import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSections, withSection, writeDrillSection } from '../support/drill/report.js';

describe('bench/drill-results.md sections', () => {
  it('a drill replaces its own section and keeps the others, in the fixed order', () => {
    let text = withSection('', 'worker', '## Worker\nold');
    text = withSection(text, 'web', '## Web\nfigures');
    text = withSection(text, 'worker', '## Worker\nnew');
    const sections = parseSections(text);
    expect([...sections.keys()]).toEqual(['web', 'worker']);
    expect(sections.get('worker')).toBe('## Worker\nnew');
    expect(sections.get('web')).toBe('## Web\nfigures');
    expect(text.indexOf('drill:web')).toBeLessThan(text.indexOf('drill:worker'));
  });

  it('writes the file when it does not exist yet', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'drill-report-')), 'drill-results.md');
    writeDrillSection('beat', '## Beat\nticks', file);
    expect(parseSections(fs.readFileSync(file, 'utf8')).get('beat')).toBe('## Beat\nticks');
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
