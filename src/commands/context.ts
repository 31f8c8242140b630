import { configFilePath, loadConfig, type LoadedConfig } from '../config/load.js';
import { createLogger, type Logger } from '../log/logger.js';

/** What every command gets: the config (loaded on first use, so --help needs no file) and a logger. */
export interface CommandContext {
  /** Loads and validates config once; throws SdpError(CONFIG_*) on any problem. */
  config(): LoadedConfig;
  /** A logger; `fd: 2` for commands whose results go to stdout. */
  logger(fd?: 1 | 2): Logger;
}

export function createCommandContext(options: { configFile?: string }): CommandContext {
  let loaded: LoadedConfig | undefined;
  const loggers = new Map<number, Logger>();
  const context: CommandContext = {
    config() {
      if (!loaded) {
        loaded = loadConfig(configFilePath(options.configFile));
        // Before any logger exists (its level comes from this config): plain lines on stderr.
        for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
      }
      return loaded;
    },
    logger(fd: 1 | 2 = 1) {
      let logger = loggers.get(fd);
      if (!logger) {
        const { config } = context.config();
        logger = createLogger({ level: config.log.level, format: config.log.format, fd });
        loggers.set(fd, logger);
      }
      return logger;
    },
  };
  return context;
}
