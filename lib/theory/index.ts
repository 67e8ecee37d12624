/** The least-squares testbed of the theory check (seed 001) and the run that counts updates to ε. */
export * from "./least-squares";
export * from "./linalg";
export * from "./run-to-tolerance";
export { gaussianStream } from "./gaussian";
