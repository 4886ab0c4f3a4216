/// <reference types="vitest/config" />
// The console's build: two pages (the console and the visitor widget's frame) under
// /console/, written to dist/app, which the Go package embeds.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: "dist/app",
    emptyOutDir: true,
    // The build prints each file's gzipped size; the console's initial load must stay
    // under 300 KB gzipped (see the README).
    reportCompressedSize: true,
    rollupOptions: {
      input: { index: "index.html", widget: "widget.html" },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
