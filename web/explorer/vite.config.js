// Builds the explorer into graph_service/explorer/static with stable file names (no content
// hashes), so rebuilding unchanged sources gives byte-identical files that can be committed.
// EXPLORER_OUT_DIR overrides the output folder (check_build.sh builds into a temp folder).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "./",
  logLevel: "warn",
  build: {
    outDir: process.env.EXPLORER_OUT_DIR || `${here}../../graph_service/explorer/static`,
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: false,
    cssCodeSplit: false,
    chunkSizeWarningLimit: 2000,
    rolldownOptions: {
      output: {
        entryFileNames: "assets/explorer.js",
        chunkFileNames: "assets/[name].js",
        assetFileNames: "assets/[name][extname]",
      },
    },
  },
});
