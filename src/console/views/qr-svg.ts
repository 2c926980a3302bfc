import QRCode from 'qrcode';
import { html, type SafeHtml } from '../html.js';

const QUIET_ZONE = 4;

/**
 * A QR code drawn as inline SVG: the console's Content-Security-Policy allows images only from
 * the console itself (no data: URLs), and an inline <svg> is part of the page. Built here from the
 * code's modules, one square per dark module, so no markup from elsewhere reaches the page.
 */
export function qrCodeSvg(text: string, label: string): SafeHtml {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  const squares: string[] = [];
  for (let row = 0; row < size; row += 1) {
    for (let column = 0; column < size; column += 1) {
      if (data[row * size + column] === 1) squares.push(`M${column + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`);
    }
  }
  const extent = size + QUIET_ZONE * 2;
  return html`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${extent} ${extent}" width="${extent * 5}" height="${extent * 5}" role="img" aria-label="${label}" shape-rendering="crispEdges"><rect width="${extent}" height="${extent}" fill="white"/><path fill="black" d="${squares.join('')}"/></svg>`;
}
