import { outcomeRequest, parseOutcomeResponse, scoreText } from '../../src/lti/v1p1/outcomes/pox';

const answer = (code: string, body = '', ns = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>
<${ns}imsx_POXEnvelopeResponse xmlns${ns ? `:${ns.slice(0, -1)}` : ''}="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">
  <${ns}imsx_POXHeader><${ns}imsx_POXResponseHeaderInfo><${ns}imsx_version>V1.0</${ns}imsx_version>
    <${ns}imsx_messageIdentifier>4560</${ns}imsx_messageIdentifier>
    <${ns}imsx_statusInfo><${ns}imsx_codeMajor>${code}</${ns}imsx_codeMajor><${ns}imsx_severity>status</${ns}imsx_severity>
      <${ns}imsx_description>Score for 3124567 is now 0.92</${ns}imsx_description>
      <${ns}imsx_messageRefIdentifier>999999123</${ns}imsx_messageRefIdentifier>
      <${ns}imsx_operationRefIdentifier>replaceResult</${ns}imsx_operationRefIdentifier>
    </${ns}imsx_statusInfo></${ns}imsx_POXResponseHeaderInfo></${ns}imsx_POXHeader>
  <${ns}imsx_POXBody>${body}</${ns}imsx_POXBody>
</${ns}imsx_POXEnvelopeResponse>`;

describe('Basic Outcomes POX messages', () => {
  it('writes a replaceResult request with a fresh message id and the sourcedId escaped', () => {
    const a = outcomeRequest('replaceResult', '{"data":"<x & y>"}', 0.92);
    const b = outcomeRequest('replaceResult', 's', 0.92);
    expect(a.messageId).not.toBe(b.messageId);
    expect(a.xml).toContain(`<imsx_messageIdentifier>${a.messageId}</imsx_messageIdentifier>`);
    expect(a.xml).toContain('<sourcedId>{&quot;data&quot;:&quot;&lt;x &amp; y&gt;&quot;}</sourcedId>');
    expect(a.xml).toContain('<textString>0.92</textString>');
    expect(a.xml).toContain('xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0"');
    expect(outcomeRequest('deleteResult', 's').xml).toMatch(
      /<deleteResultRequest><resultRecord><sourcedGUID>.*<\/sourcedGUID><\/resultRecord>/,
    );
    expect(outcomeRequest('readResult', 's').xml).not.toContain('resultScore');
  });

  it('writes scores as plain decimals within 0.0–1.0', () => {
    expect(scoreText(0)).toBe('0.0');
    expect(scoreText(1)).toBe('1.0');
    expect(scoreText(0.85)).toBe('0.85');
    expect(scoreText(1e-7)).toBe('0.0000001');
    expect(() => scoreText(1.01)).toThrow();
    expect(() => scoreText(Number.NaN)).toThrow();
  });

  it('reads the IMS example answer, with or without a namespace prefix', () => {
    for (const ns of ['', 'ims:']) {
      expect(parseOutcomeResponse(answer('success', '<replaceResultResponse/>', ns))).toMatchObject({
        codeMajor: 'success',
        severity: 'status',
        messageRefIdentifier: '999999123',
        operationRefIdentifier: 'replaceResult',
      });
    }
    expect(parseOutcomeResponse(answer('failure'))?.codeMajor).toBe('failure');
    expect(parseOutcomeResponse(answer('Unsupported'))?.codeMajor).toBe('unsupported');
  });

  it('reads a readResult score, and none when the text is empty', () => {
    const body = (t: string) =>
      `<readResultResponse><result><resultScore><language>en</language><textString>${t}</textString></resultScore></result></readResultResponse>`;
    expect(parseOutcomeResponse(answer('success', body('0.91')))?.score).toBe(0.91);
    expect(parseOutcomeResponse(answer('success', body('')))?.score).toBeNull();
  });

  it('refuses what is not an answer: HTML, a missing code, an unknown code, a DOCTYPE', () => {
    expect(parseOutcomeResponse('<html><body>maintenance</body></html>')).toBeNull();
    expect(parseOutcomeResponse('not xml at all <')).toBeNull();
    expect(parseOutcomeResponse(answer('maybe'))).toBeNull();
    expect(parseOutcomeResponse(`<!DOCTYPE x [<!ENTITY a "aaaa">]>${answer('success')}`)).toBeNull();
  });
});
