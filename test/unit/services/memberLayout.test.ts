import { describe, expect, it } from 'vitest';
import {
  assignStatusPorts,
  candidatePorts,
  describePort,
  memberArgs,
  memberClientId,
  memberEnv,
  memberEtlClientIdPrefix,
  memberPaths,
  parseMemberDirName,
} from '../../../src/services/memberLayout.js';

describe('memberPaths: each member its own run dir and checkpoint store', () => {
  it('under the run dir and the checkpoint root, by index', () => {
    expect(memberPaths('/srv/sdp/data', '/srv/sdp/data/checkpoints', 2)).toEqual({
      index: 2,
      runDir: '/srv/sdp/data/members/2',
      logFile: '/srv/sdp/data/members/2/etl.log',
      outFile: '/srv/sdp/data/members/2/etl.out',
      checkpointRoot: '/srv/sdp/data/checkpoints/members/2',
    });
  });

  it('only 1 … 64 name a member directory', () => {
    expect(parseMemberDirName('1')).toBe(1);
    expect(parseMemberDirName('64')).toBe(64);
    for (const name of ['0', '01', '65', '1000', 'x', '1a', '', '.sdp-root'])
      expect(parseMemberDirName(name)).toBe(undefined);
  });
});

describe('assignStatusPorts: ui.status_port + i, or the next free port', () => {
  it('ui.status_port + i when free', () => {
    expect([...assignStatusPorts([1, 2, 3], 8081, () => false)]).toEqual([
      [1, { port: 8082, preferred: true }],
      [2, { port: 8083, preferred: true }],
      [3, { port: 8084, preferred: true }],
    ]);
  });

  it('a taken port moves that member to the next free one, never onto another member', () => {
    const busy = new Set([8083, 8084]);
    expect([...assignStatusPorts([3, 2, 1], 8081, (p) => busy.has(p))]).toEqual([
      [1, { port: 8082, preferred: true }],
      [2, { port: 8085, preferred: false }],
      [3, { port: 8086, preferred: false }],
    ]);
  });

  it('ui.status_port 0: every member lets the OS pick', () => {
    expect([...assignStatusPorts([1, 2], 0, () => true)]).toEqual([
      [1, { port: 0, preferred: true }],
      [2, { port: 0, preferred: true }],
    ]);
  });

  it('no port below 65536: the member is left out', () => {
    expect([...assignStatusPorts([1, 2], 65_533, (p) => p === 65_535)]).toEqual([
      [1, { port: 65_534, preferred: true }],
    ]);
  });

  it('the ports to probe: from the first preferred one, with room to move up', () => {
    expect(candidatePorts([2, 3], 8081, 2)).toEqual([8083, 8084, 8085, 8086, 8087, 8088]);
    expect(candidatePorts([1], 0)).toEqual([]);
    expect(candidatePorts([], 8081)).toEqual([]);
  });

  it('says how a port came about', () => {
    expect(describePort(8083, 8081, 2)).toBe('ui.status_port + 2');
    expect(describePort(8090, 8081, 2)).toBe('the next free port (ui.status_port + 2 = 8083 was taken)');
    expect(describePort(41234, 0, 2)).toBe('a free port (ui.status_port is 0)');
  });
});

describe("a member's command line and environment", () => {
  const paths = memberPaths('/d', '/d/checkpoints', 3);

  it('its own checkpoint store, status port and client id, and the window stages; nothing else changes', () => {
    expect(memberEnv(paths, 8084, 'sdp')).toEqual({
      SDP_STORAGE__CHECKPOINT_ROOT: '/d/checkpoints/members/3',
      SDP_UI__STATUS_PORT: '8084',
      SDP_KAFKA__CLIENT_ID: 'sdp-member-3',
      SDP_ETL__WINDOWS: 'members',
    });
  });

  it("client ids that tell members apart, and never match the platform's `sdp-etl-` or another member's", () => {
    expect(memberClientId('sdp', 3)).toBe('sdp-member-3');
    expect(memberEtlClientIdPrefix('sdp', 1)).toBe('sdp-member-1-etl-');
    expect('sdp-member-10-etl-iot'.startsWith(memberEtlClientIdPrefix('sdp', 1))).toBe(false);
    expect('sdp-member-1-etl-iot'.startsWith('sdp-etl-')).toBe(false);
  });

  it('etl with its log file (which makes each command line its own), after --config when given', () => {
    expect(memberArgs('/r/dist/main.js', paths.logFile)).toEqual([
      '/r/dist/main.js',
      'etl',
      '--log-file',
      '/d/members/3/etl.log',
    ]);
    expect(memberArgs('/r/dist/main.js', paths.logFile, 'prod.yml').slice(1, 4)).toEqual([
      '--config',
      'prod.yml',
      'etl',
    ]);
  });
});
