// Where the built console lives, for the gateway that serves it (the page itself is built by `vite build`).
import { fileURLToPath } from 'node:url';

export const consoleDistDir = fileURLToPath(new URL('./dist/', import.meta.url));
