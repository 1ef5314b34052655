// Microphone samples (float or 16-bit, any device rate, mono or interleaved channels) into what a
// voice session takes: 16 kHz mono PCM16 little-endian, 100 ms a chunk, base64. Free of
// UnityEngine so the same code runs in the headless tests; Unity's Microphone gives floats.
using System;
using System.Collections.Generic;

namespace HoloMate.Core
{
    public sealed class VoiceChunker
    {
        public const int TargetRate = 16000;
        public const int ChunkMs = 100;

        readonly int _channels;
        readonly double _step;        // input frames per output sample
        readonly short[] _chunk;
        int _filled;
        // Downsampling: each output sample is the mean of its window of input frames (a box
        // low-pass, enough for speech). Upsampling: linear between neighbouring input frames.
        double _sum;
        int _count;
        double _pos;                 // input frames consumed
        double _next;                // input position of the next output sample
        double _previous;

        public int InputRate { get; private set; }
        public int ChunkSamples { get { return _chunk.Length; } }

        public VoiceChunker(int inputRate, int channels = 1, int targetRate = TargetRate, int chunkMs = ChunkMs)
        {
            if (inputRate <= 0) throw new ArgumentOutOfRangeException("inputRate");
            if (channels <= 0) throw new ArgumentOutOfRangeException("channels");
            InputRate = inputRate;
            _channels = channels;
            _step = (double)inputRate / targetRate;
            _chunk = new short[targetRate * chunkMs / 1000];
            _next = _step >= 1 ? _step : 0;
        }

        /// <summary>Adds interleaved float samples (-1..1); returns the base64 chunks they completed.</summary>
        public List<string> AddFloats(float[] samples, int offset, int count)
        {
            var done = new List<string>();
            for (int i = offset; i + _channels <= offset + count; i += _channels)
            {
                double s = 0;
                for (int c = 0; c < _channels; c++) s += samples[i + c];
                AddFrame(s / _channels, done);
            }
            return done;
        }

        /// <summary>Adds interleaved 16-bit samples; returns the base64 chunks they completed.</summary>
        public List<string> AddPcm16(short[] samples, int offset, int count)
        {
            var done = new List<string>();
            for (int i = offset; i + _channels <= offset + count; i += _channels)
            {
                double s = 0;
                for (int c = 0; c < _channels; c++) s += samples[i + c] / 32768.0;
                AddFrame(s / _channels, done);
            }
            return done;
        }

        /// <summary>What is left, as a shorter last chunk (null when nothing is).</summary>
        public string Flush()
        {
            if (_filled == 0) return null;
            string rest = Encode(_chunk, _filled);
            _filled = 0;
            return rest;
        }

        void AddFrame(double x, List<string> done)
        {
            if (_step >= 1)
            {
                _sum += x;
                _count++;
                _pos += 1;
                if (_pos < _next) return;
                _next += _step;
                Emit(_sum / _count, done);
                _sum = 0;
                _count = 0;
                return;
            }
            // Upsampling: output samples between the previous frame (at _pos - 1) and this one.
            while (_next <= _pos)
            {
                double t = _pos == 0 ? 1 : 1 - (_pos - _next);
                Emit(_previous + (x - _previous) * t, done);
                _next += _step;
            }
            _previous = x;
            _pos += 1;
        }

        void Emit(double v, List<string> done)
        {
            if (v > 1) v = 1;
            else if (v < -1) v = -1;
            _chunk[_filled++] = (short)(v < 0 ? v * 32768 : v * 32767);
            if (_filled < _chunk.Length) return;
            done.Add(Encode(_chunk, _filled));
            _filled = 0;
        }

        /// <summary>Base64 of samples as little-endian 16-bit PCM, whatever the machine's byte order.</summary>
        public static string Encode(short[] samples, int count)
        {
            var bytes = new byte[count * 2];
            for (int i = 0; i < count; i++)
            {
                bytes[2 * i] = (byte)(samples[i] & 0xff);
                bytes[2 * i + 1] = (byte)((samples[i] >> 8) & 0xff);
            }
            return Convert.ToBase64String(bytes);
        }
    }
}
