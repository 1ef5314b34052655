// Orders a reply's audio chunks for gapless playback.
// Chunks may arrive (and finish downloading) out of order; playback must not. All downloads
// start at once (prefetch), and TryDequeue hands out chunks strictly in seq order, only once
// downloaded. The clip type is generic: byte[] headless, AudioClip in Unity.
using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace HoloMate.Core
{
    public sealed class QueuedChunk<TClip>
    {
        public AudioChunk Info;
        public TClip Clip;
        /// <summary>The download failed: play Info.DurationMs of silence so later chunks keep their times.</summary>
        public bool Failed;
        public Exception Error;

        /// <summary>Reply clock (ms) at a playback position inside this chunk: chunk N starts at its StartMs.</summary>
        public double ClockAt(double secondsIntoChunk) { return Info.StartMs + secondsIntoChunk * 1000.0; }
    }

    public sealed class AudioChunkQueue<TClip>
    {
        /// <summary>The first chunk of a reply starts at 0 on the reply clock (tolerance for rounding).</summary>
        const double FirstChunkToleranceMs = 1.0;

        readonly Func<AudioChunk, CancellationToken, Task<TClip>> _fetch;
        readonly SortedDictionary<int, QueuedChunk<TClip>> _pending = new SortedDictionary<int, QueuedChunk<TClip>>();
        readonly HashSet<int> _seen = new HashSet<int>();
        readonly object _lock = new object();
        CancellationTokenSource _cts = new CancellationTokenSource();
        int _lastDequeuedSeq;
        bool _anyDequeued;
        bool _replyComplete;

        public AudioChunkQueue(Func<AudioChunk, CancellationToken, Task<TClip>> fetch) { _fetch = fetch; }

        /// <summary>Registers a chunk and starts its download. Duplicates (redelivery after a resume) are ignored.</summary>
        public void Enqueue(AudioChunk chunk)
        {
            var entry = new QueuedChunk<TClip> { Info = chunk };
            CancellationToken ct;
            lock (_lock)
            {
                if (!_seen.Add(chunk.Seq)) return;
                _pending[chunk.Seq] = entry;
                ct = _cts.Token;
            }
            Download(entry, ct);
        }

        async void Download(QueuedChunk<TClip> entry, CancellationToken ct)
        {
            TClip clip = default(TClip);
            Exception error = null;
            try { clip = await _fetch(entry.Info, ct); }
            catch (Exception e) { error = e; }
            lock (_lock)
            {
                QueuedChunk<TClip> current;
                // After a Reset this entry belongs to an old reply: drop it.
                if (!_pending.TryGetValue(entry.Info.Seq, out current) || current != entry) return;
                entry.Clip = clip;
                entry.Failed = error != null;
                entry.Error = error;
                _downloaded.Add(entry);
            }
        }

        readonly HashSet<QueuedChunk<TClip>> _downloaded = new HashSet<QueuedChunk<TClip>>();

        /// <summary>The next chunk in order, if it is downloaded (or failed). False means wait.</summary>
        public bool TryDequeue(out QueuedChunk<TClip> next)
        {
            next = null;
            lock (_lock)
            {
                if (_pending.Count == 0) return false;
                QueuedChunk<TClip> first = null;
                foreach (var kv in _pending) { first = kv.Value; break; }
                // Before anything played, only the chunk that starts the reply may go first; this
                // works whether seqs count from 0 or 1. After that, strictly the next seq.
                bool isNext = _anyDequeued ? first.Info.Seq == _lastDequeuedSeq + 1 : first.Info.StartMs <= FirstChunkToleranceMs;
                if (!isNext || !_downloaded.Contains(first)) return false;
                _pending.Remove(first.Info.Seq);
                _downloaded.Remove(first);
                _anyDequeued = true;
                _lastDequeuedSeq = first.Info.Seq;
                next = first;
                return true;
            }
        }

        /// <summary>ReplyCompleted arrived: no more chunks will come.</summary>
        public void MarkReplyComplete() { lock (_lock) _replyComplete = true; }

        /// <summary>The reply is complete and every chunk was handed out.</summary>
        public bool IsFinished { get { lock (_lock) return _replyComplete && _pending.Count == 0; } }

        public int PendingCount { get { lock (_lock) return _pending.Count; } }

        /// <summary>New reply or interruption: drop everything and cancel running downloads.</summary>
        public void Reset()
        {
            lock (_lock)
            {
                _cts.Cancel();
                _cts = new CancellationTokenSource();
                _pending.Clear();
                _downloaded.Clear();
                _seen.Clear();
                _anyDequeued = false;
                _replyComplete = false;
            }
        }
    }

    /// <summary>Downloads chunk bytes with HttpClient; relative URLs resolve against the server.</summary>
    public sealed class HttpAudioFetcher
    {
        readonly HttpClient _http;
        readonly Uri _baseUri;

        public HttpAudioFetcher(Uri baseUri, HttpClient http = null)
        {
            _baseUri = baseUri;
            _http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        }

        public Uri Resolve(string url) { return new Uri(_baseUri, url); }

        public async Task<byte[]> FetchAsync(AudioChunk chunk, CancellationToken ct)
        {
            using (var response = await _http.GetAsync(Resolve(chunk.Url), ct))
            {
                response.EnsureSuccessStatusCode();
                return await response.Content.ReadAsByteArrayAsync();
            }
        }
    }
}
