/** The directory `vite build` writes the console to (index.html and hashed assets). */
export declare const consoleDistDir: string;
