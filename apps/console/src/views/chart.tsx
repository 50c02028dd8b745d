import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartConfiguration } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/**
 * A Chart.js bar chart on a canvas. The canvas is an image to assistive technology, labelled with its title;
 * the same figures are in the table beside it.
 */
export function BarChart({ label, config, id }: { label: string; config: ChartConfiguration<'bar'>; id: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return undefined;
    const chart = new Chart(canvas.current, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } });
    return () => chart.destroy();
  }, [config]);
  return (
    <figure class="chart">
      <figcaption id={`${id}-caption`}>{label}</figcaption>
      <div class="chart-box">
        <canvas ref={canvas} id={id} role="img" aria-labelledby={`${id}-caption`} />
      </div>
    </figure>
  );
}
