#!/usr/bin/env node
// tsc compiles only TypeScript; the built-in dashboard's static page travels with the compiled code.
import { cpSync } from 'node:fs';

const root = new URL('..', import.meta.url);
cpSync(new URL('src/dashboard/static', root), new URL('dist/dashboard/static', root), { recursive: true });
