// AudioWorklet: hands each 128-sample block of the (16 kHz) audio graph to the page, which batches and sends it.
class Capture extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor("kogata-capture", Capture);
