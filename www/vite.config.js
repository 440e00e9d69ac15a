import { defineConfig } from "vite";

// `npm run dev` serves the app on its own port and forwards the SDK's requests (/v1) and
// the read API (/api) to a collector, so that "same origin" (the default apiUrl) works
// there too. Start one with `cargo run -p lunary-collector` (port 3333) or set
// LUNARY_COLLECTOR_URL.
const collector = process.env.LUNARY_COLLECTOR_URL || "http://127.0.0.1:3333";

export default defineConfig({
  // Relative asset URLs: the build works wherever it is mounted (the collector serves it
  // at /demo/).
  base: "./",
  build: {
    target: "es2022", // lunary-wasm's entry uses top-level await
  },
  // The package loads its .wasm with new URL(..., import.meta.url): keep it out of
  // dependency pre-bundling, which would move the file away from its .wasm.
  optimizeDeps: { exclude: ["lunary-wasm"] },
  server: {
    host: "127.0.0.1",
    // lunary-wasm is linked from ../pkg (package.json: "file:../pkg").
    fs: { allow: [".", "../pkg"] },
    proxy: { "/v1": collector, "/api": collector },
  },
  preview: { host: "127.0.0.1" },
});
