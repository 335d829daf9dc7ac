#!/usr/bin/env node
console.error('rapport: not built yet');
process.exit(1);
