"""Recordings (2010 read API, sandbox upload), AddOnResults, Payloads and their Data."""

from django.http import FileResponse
from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response

from marketplace.api import params
from marketplace.api.openapi import (
    ACCOUNT_SID,
    API_2010,
    DELETED,
    MULTIPART,
    PAGING,
    PAYLOAD,
    PAYLOAD_DATA,
    RECORDING,
    RECORDING_FILTERS,
    RECORDING_PATH,
    RESULT,
    RESULT_PATH,
    SANDBOX,
    operation,
    path_sid,
    ref,
    resource,
    v2010_page,
)
from marketplace.api.pagination import v2010_list
from marketplace.api.views import Account2010APIView, AccountAPIView
from recordings import selectors, services
from recordings.api import serializers
from recordings.downloads import payload_download_url


class RecordingUpload(AccountAPIView):
    """POST /sandbox/v1/Recordings: a WAV in the `Audio` field becomes a Recording."""

    @operation(
        "CreateRecording",
        "Upload a WAV as a recording; each add-on with `recordings` on gets a result.",
        SANDBOX,
        {201: resource("The recording.", RECORDING)},
        body={
            MULTIPART: {
                "type": "object",
                "required": ["Audio"],
                "properties": {"Audio": {"type": "string", "format": "binary", "description": "A WAV file."}},
            }
        },
        body_required=True,
        errors=(400, 413, 415),
    )
    def post(self, request):
        recording = services.create_recording(account=self.account, audio=request.FILES.get("Audio"))
        return Response(serializers.recording(recording), status=status.HTTP_201_CREATED)


class RecordingView(Account2010APIView):
    def recording(self, sid):
        return selectors.recording(self.account, self.path_sid(sid, "RE"))


class RecordingList(RecordingView):
    @operation(
        "ListRecording",
        "Your recordings.",
        API_2010,
        {200: ("A page of recordings.", v2010_page("recordings", ref(RECORDING)))},
        parameters=(ACCOUNT_SID, *RECORDING_FILTERS, *PAGING),
        errors=(400, 404),
    )
    def get(self, request, account_sid):
        query = request.query_params
        return Response(
            v2010_list(
                request,
                selectors.filtered_recordings(
                    self.account,
                    created_on=params.date_or_datetime(query, "DateCreated"),
                    created_before=params.date_or_datetime(query, "DateCreated<"),
                    created_after=params.date_or_datetime(query, "DateCreated>"),
                    call_sid=params.sid(query, "CallSid", "CA"),
                    conference_sid=params.sid(query, "ConferenceSid", "CF"),
                ),
                key="recordings",
                path=reverse("recording_list", kwargs={"account_sid": self.account.sid}),
                render=serializers.recording,
            )
        )


class RecordingDetail(RecordingView):
    @operation(
        "FetchRecording",
        "One recording.",
        API_2010,
        {200: resource("The recording.", RECORDING)},
        parameters=(ACCOUNT_SID, path_sid("sid", "RE", "Recording")),
        errors=(404,),
    )
    def get(self, request, account_sid, sid):
        return Response(serializers.recording(self.recording(sid)))

    @operation(
        "DeleteRecording",
        "Delete a recording, its results and payloads.",
        API_2010,
        DELETED,
        parameters=(ACCOUNT_SID, path_sid("sid", "RE", "Recording")),
        errors=(404,),
    )
    def delete(self, request, account_sid, sid):
        services.delete_recording(recording=self.recording(sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecordingMedia(RecordingView):
    @operation(
        "FetchRecordingMedia",
        "A recording's audio.",
        API_2010,
        {(200, "audio/x-wav"): ("The WAV, as uploaded.", {"type": "string", "format": "binary"})},
        parameters=(ACCOUNT_SID, path_sid("sid", "RE", "Recording")),
        errors=(404,),
    )
    def get(self, request, account_sid, sid):
        recording = self.recording(sid)
        return FileResponse(
            recording.audio.open("rb"), content_type=recording.mimetype, filename=f"{recording.sid}.wav"
        )


class AddOnResultList(RecordingView):
    @operation(
        "ListRecordingAddOnResult",
        "The add-on results of a recording.",
        API_2010,
        {200: ("A page of results.", v2010_page("add_on_results", ref(RESULT)))},
        parameters=(*RECORDING_PATH, *PAGING),
        errors=(400, 404),
    )
    def get(self, request, account_sid, reference_sid):
        recording = self.recording(reference_sid)
        return Response(
            v2010_list(
                request,
                selectors.results(recording),
                key="add_on_results",
                path=reverse("add_on_result_list", kwargs=serializers.recording_kwargs(recording)),
                render=serializers.add_on_result,
            )
        )


class AddOnResultDetail(RecordingView):
    def result(self, reference_sid, sid):
        return selectors.result(self.recording(reference_sid), self.path_sid(sid, "XR"))

    @operation(
        "FetchRecordingAddOnResult",
        "One add-on result.",
        API_2010,
        {200: resource("The result.", RESULT)},
        parameters=(*RECORDING_PATH, path_sid("sid", "XR", "AddOnResult")),
        errors=(404,),
    )
    def get(self, request, account_sid, reference_sid, sid):
        return Response(serializers.add_on_result(self.result(reference_sid, sid)))

    @operation(
        "DeleteRecordingAddOnResult",
        "Delete an add-on result and its payloads.",
        API_2010,
        DELETED,
        parameters=(*RECORDING_PATH, path_sid("sid", "XR", "AddOnResult")),
        errors=(404,),
    )
    def delete(self, request, account_sid, reference_sid, sid):
        services.delete_result(result=self.result(reference_sid, sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PayloadView(RecordingView):
    def result(self, reference_sid, result_sid):
        return selectors.result(self.recording(reference_sid), self.path_sid(result_sid, "XR"))

    def payload(self, reference_sid, result_sid, sid):
        return selectors.payload(self.result(reference_sid, result_sid), self.path_sid(sid, "XH"))


class PayloadList(PayloadView):
    @operation(
        "ListRecordingAddOnResultPayload",
        "The payloads of an add-on result.",
        API_2010,
        {200: ("A page of payloads.", v2010_page("payloads", ref(PAYLOAD)))},
        parameters=(*RESULT_PATH, *PAGING),
        errors=(400, 404),
    )
    def get(self, request, account_sid, reference_sid, result_sid):
        result = self.result(reference_sid, result_sid)
        return Response(
            v2010_list(
                request,
                selectors.payloads(result),
                key="payloads",
                path=reverse("payload_list", kwargs=serializers.result_kwargs(result)),
                render=serializers.payload,
            )
        )


class PayloadDetail(PayloadView):
    @operation(
        "FetchRecordingAddOnResultPayload",
        "One payload.",
        API_2010,
        {200: resource("The payload.", PAYLOAD)},
        parameters=(*RESULT_PATH, path_sid("sid", "XH", "Payload")),
        errors=(404,),
    )
    def get(self, request, account_sid, reference_sid, result_sid, sid):
        return Response(serializers.payload(self.payload(reference_sid, result_sid, sid)))

    @operation(
        "DeleteRecordingAddOnResultPayload",
        "Delete a payload.",
        API_2010,
        DELETED,
        parameters=(*RESULT_PATH, path_sid("sid", "XH", "Payload")),
        errors=(404,),
    )
    def delete(self, request, account_sid, reference_sid, result_sid, sid):
        services.delete_payload(payload=self.payload(reference_sid, result_sid, sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PayloadData(PayloadView):
    """307 with `redirect_to`: a signed URL on our server that serves the stored payload."""

    @operation(
        "FetchRecordingAddOnResultPayloadData",
        "Where to download a payload's data.",
        API_2010,
        {307: resource("Redirect to a signed URL that expires.", PAYLOAD_DATA)},
        parameters=(*RESULT_PATH, path_sid("sid", "XH", "Payload")),
        errors=(404,),
    )
    def get(self, request, account_sid, reference_sid, result_sid, sid):
        url = payload_download_url(self.payload(reference_sid, result_sid, sid))
        return Response({"redirect_to": url}, status=status.HTTP_307_TEMPORARY_REDIRECT, headers={"Location": url})
