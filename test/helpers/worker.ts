import { exports } from 'cloudflare:workers';

/** The Worker under test: its real default export's fetch handler in workerd (typed in test/env.d.ts). */
export const worker = exports.default;

/** The origin test requests are addressed to (the Worker answers any host). */
export const BASE = 'http://api.test';
