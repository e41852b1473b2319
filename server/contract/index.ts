// The one contract shared by API, workers and UI. Browser-safe: zod and types only.
export * from "./clocks";
export * from "./conditions";
export * from "./devtools";
export * from "./drain";
export * from "./errors";
export * from "./events";
export * from "./hosts";
export * from "./jobs";
export * from "./lists";
export * from "./load";
export * from "./modes";
export * from "./orders";
export * from "./rush";
export * from "./services";
export * from "./steps";
export * from "./text";
