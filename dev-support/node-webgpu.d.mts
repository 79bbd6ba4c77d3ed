export declare function useChromiumVulkanLoader(): void;
/** The adapter Dawn gives (a WebGPU GPUAdapter): its `features` and `info`. */
export declare function installNodeWebGpu(): Promise<{
  readonly features: { has(feature: string): boolean };
  readonly info?: { vendor?: string; architecture?: string; description?: string };
}>;
