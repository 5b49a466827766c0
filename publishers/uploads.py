"""Reading a recording-analysis request: the audio and the params, from a multipart or raw body.

The platform sends a recording in one of two ways (docs/manifest.md, endpoint formats):

- `multipart/form-data`: the audio is the part named by the manifest's `audio_field`
  (`filename="<media_sid>.wav"`, `Content-Type: audio/x-wav`); every other param is a text part;
- raw: the body is the audio (`Content-Type: audio/*`) and the params are in the query string.

Either way the signature covers the exact body bytes (bodySHA256), so by the time a body gets
here it is the platform's; what can still go wrong is a sender bug, answered with a 4xx.
"""

import email.parser
import email.policy
from collections.abc import Mapping
from dataclasses import dataclass

MULTIPART_CONTENT_TYPE = "multipart/form-data"
# EmailPolicy rather than compat32: it parses RFC 2231 / quoted header params properly.
_POLICY = email.policy.HTTP


class UploadRejected(Exception):
    """The body cannot be read as a recording upload: answered with `status` and a JSON error."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes
    filename: str | None = None
    # The part's own Content-Type header, None when it has none.
    content_type: str | None = None


@dataclass(frozen=True)
class AudioUpload:
    """What a recording route's handler gets: the params (text) and the audio (bytes)."""

    params: dict[str, str]
    audio: bytes
    # The audio's MIME type as sent: the part's Content-Type, or the raw body's.
    content_type: str
    filename: str | None = None

    def __repr__(self) -> str:  # not the audio bytes
        return (
            f"AudioUpload(params={self.params!r}, audio=<{len(self.audio)} bytes>, "
            f"content_type={self.content_type!r}, filename={self.filename!r})"
        )


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """The parts of a multipart/form-data body, in order, or UploadRejected(400).

    `content_type` is the request's whole Content-Type header (it carries the boundary). The
    standard library's MIME parser does the work, fed a synthetic header; it keeps binary
    payloads byte for byte (surrogateescape) and strips only the CRLF before each boundary.
    """
    media_type, _, _ = content_type.partition(";")
    if media_type.strip().lower() != MULTIPART_CONTENT_TYPE:
        raise UploadRejected(415, "unsupported_media_type", f"expected {MULTIPART_CONTENT_TYPE}, got {media_type!r}")
    try:
        header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("ascii")
    except UnicodeEncodeError:
        raise UploadRejected(400, "malformed_body", "the Content-Type header must be ASCII") from None
    message = email.parser.BytesParser(policy=_POLICY).parsebytes(header + body)
    if not message.get_boundary():
        raise UploadRejected(400, "malformed_body", "the multipart Content-Type needs a boundary parameter")
    if not message.is_multipart() or message.defects:
        problems = _describe(message.defects)
        raise UploadRejected(400, "malformed_body", f"the body is not valid multipart/form-data ({problems})")
    parts = []
    for index, item in enumerate(message.iter_parts()):
        name = item.get_param("name", header="content-disposition")
        if item.get_content_disposition() != "form-data" or not name:
            raise UploadRejected(400, "malformed_body", f"part {index} has no Content-Disposition: form-data; name=...")
        if item.is_multipart():
            raise UploadRejected(400, "malformed_body", f"part {name!r} is itself multipart, which is not supported")
        data = item.get_payload(decode=True)
        # Decoding registers defects (e.g. bad base64) rather than raising.
        if item.defects or not isinstance(data, bytes):
            raise UploadRejected(
                400, "undecodable_part", f"part {name!r} cannot be decoded ({_describe(item.defects)})"
            )
        parts.append(
            Part(name=str(name), data=data, filename=item.get_filename(), content_type=item.get("Content-Type"))
        )
    return parts


def read_audio_upload(
    *, content_type: str, body: bytes, query_params: Mapping[str, str], audio_field: str
) -> AudioUpload:
    """The upload of a recording request, or UploadRejected.

    Multipart: the query params overlaid with the text parts (first value of each name); the
    audio is the part named `audio_field`. Raw (`audio/*`): the body is the audio, the params
    are the query params.
    """
    media_type = content_type.partition(";")[0].strip().lower()
    params = dict(query_params)
    if media_type.startswith("audio/"):
        if not body:
            raise UploadRejected(400, "missing_audio", "the body is empty: a raw upload's body is the audio")
        return AudioUpload(params=params, audio=body, content_type=media_type)
    if media_type != MULTIPART_CONTENT_TYPE:
        sent = repr(media_type) if media_type else "no Content-Type"
        message = f"send {MULTIPART_CONTENT_TYPE} or a raw audio/* body, not {sent}"
        raise UploadRejected(415, "unsupported_media_type", message)
    audio: Part | None = None
    texts: dict[str, str] = {}
    for part in parse_multipart(body, content_type):
        if part.name == audio_field:
            audio = audio or part
            continue
        if part.name in texts:
            continue
        try:
            texts[part.name] = part.data.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadRejected(400, "undecodable_part", f"text part {part.name!r} is not valid UTF-8") from None
    if audio is None or not audio.data:
        raise UploadRejected(400, "missing_audio", f"the audio must be a non-empty part named {audio_field!r}")
    params.update(texts)
    media = (audio.content_type or "application/octet-stream").partition(";")[0].strip().lower()
    return AudioUpload(params=params, audio=audio.data, content_type=media, filename=audio.filename)


def _describe(defects) -> str:
    return ", ".join(type(defect).__name__ for defect in defects) or "no parts"
