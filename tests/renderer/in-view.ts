// A browser's IntersectionObserver as if every observed element were scrolled into view: happy-dom
// lays nothing out, so views that mount charts on scroll (LazyMount) are given this in their tests.
export class EverythingInView {
  constructor(private readonly callback: (entries: { isIntersecting: boolean; target: Element }[]) => void) {}
  observe(target: Element): void {
    queueMicrotask(() => this.callback([{ isIntersecting: true, target }]));
  }
  unobserve(): void {}
  disconnect(): void {}
}
