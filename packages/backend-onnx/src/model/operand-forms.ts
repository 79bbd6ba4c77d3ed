/** Where ops of the default domain take an operand as an attribute or as an input, by opset. */

/** Reduce* ops take their axes as an input from opset 13 (ReduceSum) or 18 (the others), as an attribute before. */
export function reduceAxesAsInput(opType: string, opset: number): boolean {
  return opType === 'ReduceSum' ? opset >= 13 : opset >= 18;
}
