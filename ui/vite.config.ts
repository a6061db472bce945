// Builds the app into the Python package, where `cairn server` serves it:
// index.html at "/", everything else under "/static-files/" (hashed names, cached for a year).
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../src/cairn/server/webui", import.meta.url));

export default defineConfig({
  base: "/static-files/",
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
    rollupOptions: {
      output: {
        manualChunks: {
          react: ["react", "react-dom", "@tanstack/react-query", "@tanstack/react-virtual"],
        },
      },
    },
  },
  server: {
    // `npm run dev` against a running `cairn ui` on port 5000.
    proxy: {
      "/api": "http://127.0.0.1:5000",
      "/ajax-api": "http://127.0.0.1:5000",
      "/get-artifact": "http://127.0.0.1:5000",
    },
  },
});
