import QRCode from 'qrcode';

/**
 * A QR code of `text` as Stytch answers `qr_code` in totps.create: a PNG data URL, with a space
 * after the comma as Stytch writes it (browsers and image decoders accept it).
 */
export async function qrCodePngDataUrl(text: string): Promise<string> {
  const png = await QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 });
  return `data:image/png;base64, ${png.toString('base64')}`;
}
