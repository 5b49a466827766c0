"""Recordings (2010 read API, sandbox upload), AddOnResults, Payloads and their Data."""

from django.http import FileResponse
from rest_framework import status
from rest_framework.response import Response

from marketplace.api import params
from marketplace.api.pagination import v2010_list
from marketplace.api.views import Account2010APIView, AccountAPIView
from recordings import selectors, services
from recordings.api import serializers
from recordings.downloads import payload_download_url


class RecordingUpload(AccountAPIView):
    """POST /sandbox/v1/Recordings: a WAV in the `Audio` field becomes a Recording."""

    def post(self, request):
        recording = services.create_recording(account=self.account, audio=request.FILES.get("Audio"))
        return Response(serializers.recording(recording), status=status.HTTP_201_CREATED)


class RecordingView(Account2010APIView):
    def recording(self, sid):
        return selectors.recording(self.account, self.path_sid(sid, "RE"))


class RecordingList(RecordingView):
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
                path=f"/2010-04-01/Accounts/{self.account.sid}/Recordings.json",
                render=serializers.recording,
            )
        )


class RecordingDetail(RecordingView):
    def get(self, request, account_sid, sid):
        return Response(serializers.recording(self.recording(sid)))

    def delete(self, request, account_sid, sid):
        services.delete_recording(recording=self.recording(sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecordingMedia(RecordingView):
    def get(self, request, account_sid, sid):
        recording = self.recording(sid)
        return FileResponse(recording.audio.open("rb"), content_type=recording.mimetype, filename=f"{recording.sid}.wav")


class AddOnResultList(RecordingView):
    def get(self, request, account_sid, reference_sid):
        recording = self.recording(reference_sid)
        return Response(
            v2010_list(
                request,
                selectors.results(recording),
                key="add_on_results",
                path=f"{serializers.recording_path(recording)}/AddOnResults.json",
                render=serializers.add_on_result,
            )
        )


class AddOnResultDetail(RecordingView):
    def result(self, reference_sid, sid):
        return selectors.result(self.recording(reference_sid), self.path_sid(sid, "XR"))

    def get(self, request, account_sid, reference_sid, sid):
        return Response(serializers.add_on_result(self.result(reference_sid, sid)))

    def delete(self, request, account_sid, reference_sid, sid):
        services.delete_result(result=self.result(reference_sid, sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PayloadView(RecordingView):
    def result(self, reference_sid, result_sid):
        return selectors.result(self.recording(reference_sid), self.path_sid(result_sid, "XR"))

    def payload(self, reference_sid, result_sid, sid):
        return selectors.payload(self.result(reference_sid, result_sid), self.path_sid(sid, "XH"))


class PayloadList(PayloadView):
    def get(self, request, account_sid, reference_sid, result_sid):
        result = self.result(reference_sid, result_sid)
        return Response(
            v2010_list(
                request,
                selectors.payloads(result),
                key="payloads",
                path=f"{serializers.result_path(result)}/Payloads.json",
                render=serializers.payload,
            )
        )


class PayloadDetail(PayloadView):
    def get(self, request, account_sid, reference_sid, result_sid, sid):
        return Response(serializers.payload(self.payload(reference_sid, result_sid, sid)))

    def delete(self, request, account_sid, reference_sid, result_sid, sid):
        services.delete_payload(payload=self.payload(reference_sid, result_sid, sid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PayloadData(PayloadView):
    """307 with `redirect_to`: a signed URL on our server that serves the stored payload."""

    def get(self, request, account_sid, reference_sid, result_sid, sid):
        url = payload_download_url(self.payload(reference_sid, result_sid, sid))
        return Response({"redirect_to": url}, status=status.HTTP_307_TEMPORARY_REDIRECT, headers={"Location": url})
