import {
  authorizationHeader,
  baseStringUri,
  bodyHash,
  formParams,
  hmacSha1Signature,
  normalizeParams,
  OAuthParam,
  parseAuthorizationHeader,
  percentEncode,
  signatureBaseString,
  signatureMatches,
  signRequest,
} from '../../src/lti/v1p1/oauth1';

const entries = (o: Record<string, string>): OAuthParam[] => Object.entries(o);

describe('OAuth 1.0a HMAC-SHA1 (RFC 5849)', () => {
  describe('percent-encoding (§3.6)', () => {
    it('leaves only the unreserved characters alone, upper-case hex, UTF-8 octets', () => {
      expect(percentEncode('AZaz09-._~')).toBe('AZaz09-._~');
      expect(percentEncode(' ')).toBe('%20');
      expect(percentEncode('+')).toBe('%2B');
      expect(percentEncode("!*'()")).toBe('%21%2A%27%28%29');
      expect(percentEncode('%20')).toBe('%2520');
      expect(percentEncode('é')).toBe('%C3%A9');
      expect(percentEncode('日本')).toBe('%E6%97%A5%E6%9C%AC');
      expect(percentEncode('😀')).toBe('%F0%9F%98%80');
      expect(() => percentEncode('\ud800')).toThrow();
    });
  });

  describe('base string URI (§3.4.1.2)', () => {
    it('lower-cases scheme and host, drops the default port and the query (the RFC examples)', () => {
      expect(baseStringUri('HTTP://EXAMPLE.COM:80/r%20v/X?id=123')).toBe('http://example.com/r%20v/X');
      expect(baseStringUri('https://www.example.net:8080/?q=1')).toBe('https://www.example.net:8080/');
      expect(baseStringUri('HTTPS://Tool.Example.EDU:443/lti/1.1/launch#frag')).toBe(
        'https://tool.example.edu/lti/1.1/launch',
      );
    });
  });

  describe('RFC 5849 §3.4.1 example', () => {
    // POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b, body `c2&a3=2+q`, oauth parameters in the header.
    const header =
      'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", ' +
      'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", ' +
      'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"';
    const url = 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b';

    it('reads the Authorization header, realm left out', () => {
      const params = parseAuthorizationHeader(header)!;
      expect(params).toContainEqual(['oauth_signature', 'bYT5CMsGcbgUdFHObYMEfcx6bsw=']);
      expect(params.map(([k]) => k)).not.toContain('realm');
    });

    it('normalizes the parameters exactly as §3.4.1.3.2 shows', () => {
      const params = [...formParams('b5=%3D%253D&a3=a&c%40=&a2=r%20b'), ...formParams('c2&a3=2+q')];
      params.push(...parseAuthorizationHeader(header)!);
      expect(normalizeParams(params)).toBe(
        'a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a&' +
          'oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7',
      );
    });

    it('builds the signature base string exactly as §3.4.1.1 shows', () => {
      const params = [...formParams('c2&a3=2+q'), ...parseAuthorizationHeader(header)!];
      expect(signatureBaseString('POST', url, params)).toBe(
        'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26' +
          'c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26' +
          'oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
      );
    });
  });

  describe('the classic photos.example.net example (OAuth Core 1.0 Appendix A.5)', () => {
    const params = entries({
      oauth_consumer_key: 'dpf43f3p2l4k3l03',
      oauth_token: 'nnch734d00sl2jdk',
      oauth_signature_method: 'HMAC-SHA1',
      oauth_timestamp: '1191242096',
      oauth_nonce: 'kllo9940pd9333jh',
      oauth_version: '1.0',
    });
    const url = 'http://photos.example.net/photos?file=vacation.jpg&size=original';

    it('base string (A.5.1) and signature (A.5.2)', () => {
      const base = signatureBaseString('GET', url, params);
      expect(base).toBe(
        'GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26' +
          'oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26' +
          'oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal',
      );
      expect(hmacSha1Signature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe('tR3+Ty81lMeYAr/Fid0kMTYa/WM=');
    });

    it('the same request with host and scheme in capitals and the default port signs the same', () => {
      const base = signatureBaseString(
        'get',
        'HTTP://Photos.Example.NET:80/photos?size=original&file=vacation.jpg',
        params,
      );
      expect(hmacSha1Signature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe('tR3+Ty81lMeYAr/Fid0kMTYa/WM=');
    });
  });

  describe('a status update with spaces, "+", "!" and "," in the body and a query string on the URL', () => {
    // The worked example of Twitter's "Creating a signature" guide.
    const body = 'status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21';
    const oauth = entries({
      oauth_consumer_key: 'xvz1evFS4wEEPTGEFPHBog',
      oauth_nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
      oauth_signature_method: 'HMAC-SHA1',
      oauth_timestamp: '1318622958',
      oauth_token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
      oauth_version: '1.0',
    });
    it('signs as the guide shows', () => {
      const base = signatureBaseString(
        'POST',
        'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
        [...formParams(body), ...oauth],
      );
      expect(base).toContain(
        'status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521',
      );
      expect(
        hmacSha1Signature(
          base,
          'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
          'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
        ),
      ).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
    });
    it('"+" in a form body is a space, "%2B" is a plus', () => {
      expect(formParams('a=b+c&d=e%2Bf&g=h%20i')).toEqual([
        ['a', 'b c'],
        ['d', 'e+f'],
        ['g', 'h i'],
      ]);
    });
  });

  describe('LTI 1.1 launches signed by a consumer (Canvas "learn-lti" signature checker)', () => {
    const url = 'https://localhost:8080/launch';
    const secret = 'c64d84750dcb21febd995058588f019f';
    const common = {
      oauth_consumer_key: '5b6ee40cc9fcdaede550654a93307dcd',
      oauth_signature_method: 'HMAC-SHA1',
      oauth_version: '1.0',
      lti_message_type: 'basic-lti-launch-request',
      lti_version: 'LTI-1p0',
    };
    const vectors: [Record<string, string>, string][] = [
      [
        {
          ...common,
          oauth_timestamp: '1536162928',
          oauth_nonce: '1rC2NGlkEacq5jD0u7msfCT0mRfOaFMz4jJyvHM4MsQ',
          context_id: 'e05c24be1e',
          context_title: 'Section 955',
          launch_presentation_return_url: 'https://learn-lti.herokuapp.com/tool_return/signature_check/2/6862',
          lis_person_name_full: 'Dong Miller',
          resource_link_id: '30fd061cfe',
          roles: '',
          tool_consumer_instance_name: 'Organization 738',
          user_id: 'b029d74d0a',
        },
        '/tuo1sYQB8oKiKfbR7xB7ayuv0s=',
      ],
      [
        {
          ...common,
          oauth_timestamp: '1536162929',
          oauth_nonce: 'gF0HZHJPGyeicNv8eW0NFlhLyv0l60mkT7albdBaws',
          context_id: 'b716c3bf45',
          context_title: 'Course 517',
          launch_presentation_return_url: 'https://learn-lti.herokuapp.com/tool_return/signature_check/2/628',
          lis_person_name_full: 'Dong Jones',
          resource_link_id: 'ca96a54273',
          roles: 'urn:lti:instrole:ims/lis/administrator',
          tool_consumer_instance_name: 'Class 465',
          user_id: 'b0a13934a8',
        },
        's182wI2czmouKeqG5Bj7aX7N5BQ=',
      ],
      [
        {
          ...common,
          oauth_timestamp: '1536162930',
          oauth_nonce: 'NI6wUmCPbfNGmz4ppRMT1JmwnpNjxbr6ZNGDfozWDlQ',
          context_id: '13ca5fc8da',
          context_title: 'Course 763',
          launch_presentation_return_url: 'https://learn-lti.herokuapp.com/tool_return/signature_check/2/3333',
          lis_person_name_full: 'Dan Williams',
          resource_link_id: 'a29c2b3302',
          roles: 'instructor',
          tool_consumer_instance_name: 'Hippo 227',
          user_id: 'f818c65b43',
        },
        'Q8FTwKppPq4dUeWaDAIQxQK6fJ4=',
      ],
    ];

    it.each(vectors.map(([params, sig], i) => [i, params, sig] as const))('vector %i verifies', (_i, params, sig) => {
      expect(signatureMatches(sig, 'POST', url, entries(params), secret)).toBe(true);
    });

    it('a changed parameter, secret, method or URL does not verify', () => {
      const [params, sig] = vectors[2];
      expect(signatureMatches(sig, 'POST', url, entries({ ...params, roles: 'Instructor' }), secret)).toBe(false);
      expect(signatureMatches(sig, 'POST', url, entries(params), `${secret}x`)).toBe(false);
      expect(signatureMatches(sig, 'GET', url, entries(params), secret)).toBe(false);
      expect(signatureMatches(sig, 'POST', 'https://localhost:8081/launch', entries(params), secret)).toBe(false);
      expect(signatureMatches(sig, 'POST', `${url}?x=1`, entries(params), secret)).toBe(false);
      expect(signatureMatches('', 'POST', url, entries(params), secret)).toBe(false);
    });
  });

  describe('edge cases', () => {
    it('repeated parameters are all signed, sorted by value', () => {
      expect(
        normalizeParams([
          ['b', '2'],
          ['a', 'z'],
          ['b', '1'],
          ['a', 'y'],
          ['a', 'y'],
        ]),
      ).toBe('a=y&a=y&a=z&b=1&b=2');
      const one = signatureBaseString('POST', 'https://t.example/l', [
        ['b', '2'],
        ['b', '1'],
      ]);
      const other = signatureBaseString('POST', 'https://t.example/l', [['b', '1']]);
      expect(one).not.toBe(other);
    });

    it('sorts by the encoded names (octet order: upper case before lower case, "%" early)', () => {
      expect(
        normalizeParams([
          ['a', '1'],
          ['B', '1'],
          ['a b', '1'],
          ['a_b', '1'],
        ]),
      ).toBe('B=1&a=1&a%20b=1&a_b=1');
    });

    it('unicode names and values are encoded as UTF-8, and twice in the base string', () => {
      const base = signatureBaseString('POST', 'https://tool.example.edu/lti/1.1/launch', [
        ['lis_person_name_full', 'Zoë Łukasiewicz 李'],
      ]);
      expect(base).toBe(
        'POST&https%3A%2F%2Ftool.example.edu%2Flti%2F1.1%2Flaunch&lis_person_name_full%3DZo%25C3%25AB%2520%25C5%2581ukasiewicz%2520%25E6%259D%258E',
      );
    });

    it('the query string of the launch URL is signed with the body, duplicates included', () => {
      const withQuery = signatureBaseString('POST', 'https://tool.example.edu/l?x=1&x=1', [['a', 'b']]);
      expect(withQuery).toBe('POST&https%3A%2F%2Ftool.example.edu%2Fl&a%3Db%26x%3D1%26x%3D1');
    });

    it('behind a proxy: the signature verifies against the public URL, not the internal one', () => {
      const signed = signRequest({
        method: 'POST',
        url: 'https://tool.example.edu/lti/1.1/launch?tenant=a',
        consumerKey: 'k',
        consumerSecret: 's',
        params: [['user_id', 'u1']],
        nonce: 'n',
        timestamp: 1,
      });
      const sig = signed.find(([k]) => k === 'oauth_signature')![1];
      const params = [['user_id', 'u1'] as const, ...signed];
      expect(signatureMatches(sig, 'POST', 'HTTPS://TOOL.example.edu:443/lti/1.1/launch?tenant=a', params, 's')).toBe(
        true,
      );
      expect(signatureMatches(sig, 'POST', 'http://10.0.0.5:3000/lti/1.1/launch?tenant=a', params, 's')).toBe(false);
    });

    it('a secret with reserved characters is encoded into the key', () => {
      expect(hmacSha1Signature('bs', 'a&b', '')).not.toBe(hmacSha1Signature('bs', 'a', 'b'));
      expect(hmacSha1Signature('bs', 'cs', '')).toBe('egQqG5AJep5sJ7anhXju1unge2I=');
    });

    it('the Authorization header round-trips, and malformed ones are refused', () => {
      const params: OAuthParam[] = [
        ['oauth_body_hash', 'Lve95gjOVATpfV8EL5X4nxwjKHE='],
        ['oauth_signature', 'a+b/c='],
      ];
      expect(parseAuthorizationHeader(authorizationHeader(params))).toEqual(params);
      expect(parseAuthorizationHeader('Basic abc')).toBeNull();
      expect(parseAuthorizationHeader('OAuth a=b')).toBeNull();
      expect(parseAuthorizationHeader('OAuth a="%E0%A4%A"')).toBeNull();
    });

    it('body hash is the base64 SHA-1 of the bytes (the OAuth Body Hash draft example)', () => {
      expect(bodyHash('Hello World!')).toBe('Lve95gjOVATpfV8EL5X4nxwjKHE=');
    });
  });
});
