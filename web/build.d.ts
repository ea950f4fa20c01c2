export declare const consoleOutDir: string;
export declare function consoleIsStale(): boolean;
export declare function buildConsole(): Promise<void>;
export declare function ensureConsoleBuilt(): Promise<boolean>;
